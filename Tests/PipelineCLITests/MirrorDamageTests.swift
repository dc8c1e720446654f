import Foundation
import TestSupport
import Testing

/// Damaged MNIST files in the mirror: the fetch fails naming the file and the fix, and nothing
/// damaged enters the cache.
@Suite(
  "Damaged MNIST mirror",
  .enabled(if: TortureSettings.hasMNIST, TortureSettings.noMNIST),
  .timeLimit(.minutes(10))
)
struct MirrorDamageTests {
  /// The damaged file (the smallest of the four, so the cases stay fast).
  static let victim = "t10k-labels-idx1-ubyte"

  /// One way of damaging the labels file, with phrases the error must contain.
  enum Damage: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case badMagic, wrongCount, flippedLabel, truncatedGzip, truncatedRaw, missing

    var testDescription: String { rawValue }

    var expected: [String] {
      switch self {
      // Length and SHA-256 are checked before parsing, so header damage is a checksum error.
      case .badMagic, .wrongCount, .flippedLabel: ["SHA-256", "replace it with the original"]
      case .truncatedGzip: ["not valid gzip", "fetch it again"]
      case .truncatedRaw: ["bytes, expected 10008", "fetch it again"]
      case .missing: ["has neither", "--mnist-mirror"]
      }
    }

    /// Writes the damaged file into `mirror`, given the original decompressed bytes and .gz.
    func write(into mirror: URL, original: Data, compressed: Data) throws {
      var bytes = original
      let raw = mirror.appendingPathComponent(MirrorDamageTests.victim)
      switch self {
      case .badMagic: bytes[3] = 0x03  // the images magic 0x00000803 where labels (0x801) belong
      case .wrongCount: bytes[7] ^= 0x01
      case .flippedLabel: bytes[5000] = (bytes[5000] + 1) % 10
      case .truncatedGzip:
        try compressed.prefix(compressed.count / 2).write(
          to: mirror.appendingPathComponent(MirrorDamageTests.victim + ".gz")
        )
        return
      case .truncatedRaw: bytes = bytes.prefix(5000)
      case .missing: return
      }
      try bytes.write(to: raw)
    }
  }

  @Test("Each damage fails the fetch with the file and the fix", arguments: Damage.allCases)
  func damagedMirror(damage: Damage) throws {
    let source = try #require(TestSupport.mnistMirror)
    let mirror = try TestSupport.temporaryDirectory("mirror")
    for name in ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte"] {
      try FileManager.default.createSymbolicLink(
        at: mirror.appendingPathComponent(name + ".gz"),
        withDestinationURL: source.appendingPathComponent(name + ".gz")
      )
    }
    let compressed = try Data(contentsOf: source.appendingPathComponent(Self.victim + ".gz"))
    try damage.write(into: mirror, original: try gunzip(compressed), compressed: compressed)

    let workspace = try TestSupport.temporaryDirectory("mirror-data")
    let outcome = try PipelineProcess.run(
      ["fetch", "mnist", "--mnist-mirror", mirror.path] + workspace.dataArguments,
      timeout: 120
    )
    expectFailure(outcome, mentioning: [Self.victim] + damage.expected)
    let snapshot = try CacheSnapshot(workspace)
    #expect(snapshot.entries.isEmpty, "nothing may be committed from a damaged mirror")
    #expect(snapshot.temporaryLeftovers.isEmpty, "\(snapshot.temporaryLeftovers)")
  }

  private func gunzip(_ data: Data) throws -> Data {
    let folder = try TestSupport.temporaryDirectory("gunzip")
    let file = folder.appendingPathComponent("file.gz")
    try data.write(to: file)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/gzip")
    process.arguments = ["-d", file.path]
    try process.run()
    process.waitUntilExit()
    try #require(process.terminationStatus == 0)
    return try Data(contentsOf: folder.appendingPathComponent("file"))
  }
}
