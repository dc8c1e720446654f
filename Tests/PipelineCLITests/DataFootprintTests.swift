import Foundation
import TestSupport
import Testing

/// What the data directory holds of MNIST: one raw copy (the download stage's artifact) and
/// the preprocessed file, however the files were fetched.
@Suite(
  "Data footprint",
  .enabled(if: TortureSettings.hasMNIST, TortureSettings.noMNIST),
  .timeLimit(.minutes(10))
)
struct DataFootprintTests {
  /// The published MNIST files, by name, with the first bytes of their decompressed content
  /// (idx magic and item count), which any uncompressed copy starts with.
  static let idxHeaders: [String: [UInt8]] = [
    "train-images-idx3-ubyte": [0, 0, 8, 3, 0, 0, 0xEA, 0x60, 0, 0, 0, 28, 0, 0, 0, 28],
    "train-labels-idx1-ubyte": [0, 0, 8, 1, 0, 0, 0xEA, 0x60],
    "t10k-images-idx3-ubyte": [0, 0, 8, 3, 0, 0, 0x27, 0x10, 0, 0, 0, 28, 0, 0, 0, 28],
    "t10k-labels-idx1-ubyte": [0, 0, 8, 1, 0, 0, 0x27, 0x10],
  ]

  /// Every regular file below `directory` (relative path -> size in bytes).
  static func files(below directory: URL) throws -> [String: Int] {
    var files: [String: Int] = [:]
    let walker = FileManager.default.enumerator(atPath: directory.path)
    while let relative = walker?.nextObject() as? String {
      let attributes = try FileManager.default.attributesOfItem(
        atPath: directory.appendingPathComponent(relative).path
      )
      guard attributes[.type] as? FileAttributeType == .typeRegular else { continue }
      files[relative] = attributes[.size] as? Int ?? 0
    }
    return files
  }

  /// The committed cache entry of `stageID` in `data` (its folder), if there is exactly one.
  static func entry(of stageID: String, in data: URL) throws -> URL? {
    let entries = data.appendingPathComponent("cache/entries")
    var found: [URL] = []
    for shard in try FileManager.default.contentsOfDirectory(atPath: entries.path) {
      let shardURL = entries.appendingPathComponent(shard)
      for key in try FileManager.default.contentsOfDirectory(atPath: shardURL.path) {
        let manifest = shardURL.appendingPathComponent(key).appendingPathComponent("manifest.json")
        guard let bytes = FileManager.default.contents(atPath: manifest.path),
          let json = try JSONSerialization.jsonObject(with: bytes) as? [String: Any],
          json["stageID"] as? String == stageID
        else { continue }
        found.append(manifest.deletingLastPathComponent())
      }
    }
    return found.count == 1 ? found[0] : nil
  }

  /// Checks that `workspace`'s data directory holds MNIST once: no idx file (by name, or by
  /// content: an uncompressed idx header) anywhere, one download entry and one preprocess
  /// entry. Returns the sizes of the raw and the preprocessed artifacts.
  @discardableResult
  static func expectOneRawCopy(
    in workspace: URL,
    sourceLocation: SourceLocation = #_sourceLocation
  ) throws -> (raw: Int, preprocessed: Int) {
    let data = workspace.dataDirectory
    let files = try Self.files(below: data)
    let names = Set(idxHeaders.keys.flatMap { [$0, $0 + ".gz"] })
    let named = files.keys.filter { names.contains(($0 as NSString).lastPathComponent) }
    #expect(
      named.isEmpty,
      "idx files left in the data directory: \(named)",
      sourceLocation: sourceLocation
    )
    #expect(
      !FileManager.default.fileExists(atPath: data.appendingPathComponent("mnist").path),
      "the download folder is removed once its files are in the cache",
      sourceLocation: sourceLocation
    )
    // By content: the raw artifact stores the bytes compressed, so an idx header found in a
    // file is an uncompressed copy, whatever its name.
    for (relative, size) in files where size >= 10_008 {
      let bytes = try Data(contentsOf: data.appendingPathComponent(relative))
      for (name, header) in idxHeaders where bytes.range(of: Data(header)) != nil {
        Issue.record("\(relative) holds a copy of \(name)", sourceLocation: sourceLocation)
      }
    }
    let download = try #require(
      try entry(of: "mnist/download", in: data),
      "one committed download entry",
      sourceLocation: sourceLocation
    )
    let preprocess = try #require(
      try entry(of: "mnist/preprocess", in: data),
      "one committed preprocess entry",
      sourceLocation: sourceLocation
    )
    let size = { (url: URL) in
      try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int ?? 0
    }
    return (
      try size(download.appendingPathComponent("raw.h5")),
      try size(preprocess.appendingPathComponent("mnist.h5"))
    )
  }

  @Test("A smoke run keeps one raw copy of MNIST and the preprocessed file")
  func smokeRunStoresMNISTOnce() throws {
    let fixture = try CLIFixture.shared()
    try Self.expectOneRawCopy(in: fixture.base)
    let (raw, preprocessed) = try Self.expectOneRawCopy(in: fixture.reference)
    // The compressed raw artifact (12.9 MB) and the float32 images (42.9 MB), not the 55.9 MB
    // of idx files besides them.
    #expect(raw < 20_000_000 && preprocessed < 60_000_000, "\(raw) + \(preprocessed) bytes")
    let mnist = try Self.files(below: fixture.reference.dataDirectory).filter {
      $0.key.hasSuffix("/raw.h5") || $0.key.hasSuffix("/mnist.h5")
    }
    #expect(mnist.values.reduce(0, +) == raw + preprocessed, "\(mnist)")
  }

  /// Keeping one copy changed where files live, not what the stages produce: the download
  /// and preprocess keys and their artifacts' digests are the ones data directories already
  /// hold, so no downstream entry is recomputed. Changing them is a decision (every cache
  /// entry of every user is invalidated), never a side effect.
  @Test("The data stages' keys and digests are those existing caches hold")
  func dataStagesKeepTheirKeysAndDigests() throws {
    let fixture = try CLIFixture.shared()
    let entries = try CacheSnapshot(fixture.base).entries
    let download = try #require(entries.first { $0.value.stageID == "mnist/download" })
    let preprocess = try #require(entries.first { $0.value.stageID == "mnist/preprocess" })
    #expect(download.key == "65fbffb4c8c827aafe86233cd2958ec8beccc4a5a958d9e70c257c265076ad53")
    #expect(
      download.value.outputs
        == ["raw": "9b5a88520f175eeb02528b7f2c4ad8b5646b84df525b9d5f2ed67bf4fd8031e6"]
    )
    #expect(preprocess.key == "ef5b5cd54b35b5e6136a35242004d4ddec1b6b904436da85410fb68cec533b9b")
    #expect(
      preprocess.value.outputs
        == ["mnist": "cd17e1c30f9f8e4c6ccd463bd977d7a60a44560fc1463dae6b1e00f89862dccd"]
    )
  }

  /// A fetch that was interrupted leaves the files it verified in `Data/mnist/`; the next one
  /// uses them (here the mirror lacks one, so it must) and then removes them.
  @Test("An interrupted fetch resumes from the files it verified, then removes them")
  func fetchResumesFromVerifiedFiles() throws {
    let fixture = try CLIFixture.shared()
    let source = try #require(TestSupport.mnistMirror)
    let workspace = try fixture.emptyWorkspace("resume")
    defer { fixture.discard(workspace) }
    let staged = workspace.dataDirectory.appendingPathComponent("mnist")
    try FileManager.default.createDirectory(at: staged, withIntermediateDirectories: true)
    let resumed = "t10k-labels-idx1-ubyte"
    try gunzip(
      source.appendingPathComponent(resumed + ".gz"),
      to: staged.appendingPathComponent(resumed)
    )
    let mirror = try TestSupport.temporaryDirectory("partial-mirror")
    for name in Self.idxHeaders.keys where name != resumed {
      try FileManager.default.createSymbolicLink(
        at: mirror.appendingPathComponent(name + ".gz"),
        withDestinationURL: source.appendingPathComponent(name + ".gz")
      )
    }
    let fetched = try PipelineProcess.run(
      ["fetch", "mnist", "--mnist-mirror", mirror.path] + workspace.dataArguments
    )
    try #require(fetched.succeeded, "\(fetched)")
    try Self.expectOneRawCopy(in: workspace)
    #expect(try CacheSnapshot(workspace).digests == CacheSnapshot(fixture.base).digests)
  }

  /// `--mnist-mirror Data/mnist` (where earlier versions left the idx files): the mirror's own
  /// files stay, the copies the fetch made go.
  @Test("A mirror in the download folder keeps its own files")
  func mirrorInTheDownloadFolderIsKept() throws {
    let fixture = try CLIFixture.shared()
    let source = try #require(TestSupport.mnistMirror)
    let workspace = try fixture.emptyWorkspace("own-mirror")
    defer { fixture.discard(workspace) }
    let mirror = workspace.dataDirectory.appendingPathComponent("mnist")
    try FileManager.default.createDirectory(at: mirror, withIntermediateDirectories: true)
    for name in Self.idxHeaders.keys where name != "t10k-labels-idx1-ubyte" {
      try FileManager.default.createSymbolicLink(
        at: mirror.appendingPathComponent(name + ".gz"),
        withDestinationURL: source.appendingPathComponent(name + ".gz")
      )
    }
    try gunzip(
      source.appendingPathComponent("t10k-labels-idx1-ubyte.gz"),
      to: mirror.appendingPathComponent("t10k-labels-idx1-ubyte")
    )
    let before = try FileManager.default.contentsOfDirectory(atPath: mirror.path).sorted()
    let fetched = try PipelineProcess.run(
      ["fetch", "mnist", "--mnist-mirror", mirror.path] + workspace.dataArguments
    )
    try #require(fetched.succeeded, "\(fetched)")
    #expect(try FileManager.default.contentsOfDirectory(atPath: mirror.path).sorted() == before)
    #expect(try CacheSnapshot(workspace).digests == CacheSnapshot(fixture.base).digests)
  }

  private func gunzip(_ compressed: URL, to destination: URL) throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/gzip")
    process.arguments = ["-dc", compressed.path]
    try Data().write(to: destination)
    process.standardOutput = try FileHandle(forWritingTo: destination)
    try process.run()
    process.waitUntilExit()
    try #require(process.terminationStatus == 0)
  }
}
