import Foundation
import MNIST
import TestSupport
import Testing

/// Sources, verification, and the temporary-file-then-rename commit.
@Suite struct MNISTDownloaderTests {
  struct Offline: Error, CustomStringConvertible {
    var description: String { "network unreachable" }
  }

  static let offline: MNISTDownloader.Transport = { _ in throw Offline() }

  /// A mirror directory holding `content` under `name`.
  static func mirror(_ name: String, _ content: [UInt8]) throws -> URL {
    let directory = try TestSupport.temporaryDirectory("mnist-mirror")
    try Data(content).write(to: directory.appendingPathComponent(name))
    return directory
  }

  static func entries(of directory: URL) -> [String] {
    (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
  }

  @Test func checksumMismatchLeavesNoFile() async throws {
    let file = MNISTFile.testLabels
    // Right length and a valid header, wrong content.
    let forged = IDXFixtures.labels([UInt8](repeating: 3, count: 10_000))
    let mirror = try Self.mirror(file.name, forged)
    let destination = try TestSupport.temporaryDirectory("mnist-raw")
    let downloader = MNISTDownloader(localMirror: mirror, transport: Self.offline)
    await #expect {
      try await downloader.download(file, into: destination)
    } throws: { error in
      guard
        case .checksumMismatch(let name, let source, let expected, let actual) = error
          as? MNISTError
      else { return false }
      return name == file.name && source.hasSuffix(file.name) && expected == file.sha256
        && actual != file.sha256 && actual.count == 64
    }
    #expect(Self.entries(of: destination).isEmpty, "no final or temporary file may remain")
  }

  @Test func truncatedMirrorFile() async throws {
    let file = MNISTFile.trainLabels
    let mirror = try Self.mirror(file.name, IDXFixtures.labels([1, 2, 3]))
    let destination = try TestSupport.temporaryDirectory("mnist-raw")
    await #expect(
      throws: MNISTError.wrongLength(
        file: mirror.appendingPathComponent(file.name).path,
        expected: file.byteCount,
        actual: 11
      )
    ) {
      try await MNISTDownloader(localMirror: mirror).download(file, into: destination)
    }
    #expect(Self.entries(of: destination).isEmpty)
  }

  @Test func corruptGzip() async throws {
    let file = MNISTFile.testLabels
    let garbage: [UInt8] = [0x1F, 0x8B, 0x08, 0x00] + (0..<200).map { UInt8($0 * 7 % 256) }
    let mirror = try Self.mirror(file.compressedName, garbage)
    let destination = try TestSupport.temporaryDirectory("mnist-raw")
    await #expect {
      try await MNISTDownloader(localMirror: mirror).download(file, into: destination)
    } throws: { error in
      guard case .corruptGzip(let name, _) = error as? MNISTError else { return false }
      return name.hasSuffix(file.compressedName)
    }
    #expect(Self.entries(of: destination).isEmpty)
  }

  @Test(.needsRealMNIST) func truncatedGzip() async throws {
    let real = try #require(TestSupport.mnistMirror)
    let file = MNISTFile.trainLabels
    let compressed = try Data(contentsOf: real.appendingPathComponent(file.compressedName))
    let mirror = try Self.mirror(
      file.compressedName,
      [UInt8](compressed.prefix(compressed.count / 2))
    )
    await #expect {
      try await MNISTDownloader(localMirror: mirror).download(
        file,
        into: try TestSupport.temporaryDirectory("mnist-raw")
      )
    } throws: { error in
      guard case .corruptGzip(_, let message) = error as? MNISTError else { return false }
      return message.contains("unexpected end")
    }
  }

  @Test func missingFromMirror() async throws {
    let mirror = try TestSupport.temporaryDirectory("mnist-mirror")
    await #expect(
      throws: MNISTError.missingFromMirror(file: MNISTFile.testImages.name, mirror: mirror.path)
    ) {
      try await MNISTDownloader(localMirror: mirror).download(
        MNISTFile.testImages,
        into: try TestSupport.temporaryDirectory("mnist-raw")
      )
    }
  }

  @Test func noNetworkAndNoMirrorTriesEveryMirror() async throws {
    let destination = try TestSupport.temporaryDirectory("mnist-raw")
    let downloader = MNISTDownloader(transport: Self.offline)
    #expect(MNISTDownloader.publicMirrors.count >= 2)
    await #expect {
      try await downloader.download(into: destination)
    } throws: { error in
      guard case .unavailable(let file, let attempts) = error as? MNISTError else { return false }
      return file == MNISTFile.trainImages.name
        && attempts.count == MNISTDownloader.publicMirrors.count
        && attempts[0].hasPrefix(
          "https://ossci-datasets.s3.amazonaws.com/mnist/train-images-idx3-ubyte.gz"
        )
        && attempts.allSatisfy { $0.contains("network unreachable") }
        && error.localizedDescription.isEmpty == false
        && "\(error)".contains("DBAL_MNIST_MIRROR")
    }
    #expect(Self.entries(of: destination).isEmpty)
  }

  @Test(.needsRealMNIST) func fallsBackToTheNextRemoteMirror() async throws {
    let real = try #require(TestSupport.mnistMirror)
    let file = MNISTFile.testLabels
    let served = try Data(contentsOf: real.appendingPathComponent(file.compressedName))
    let broken = URL(string: "https://broken.invalid/mnist/")!
    let working = URL(string: "https://working.invalid/mnist/")!
    let downloader = MNISTDownloader(remoteMirrors: [broken, working]) { url in
      guard url.host == "working.invalid" else { throw Offline() }
      return served
    }
    let destination = try TestSupport.temporaryDirectory("mnist-raw")
    let result = try await downloader.download(file, into: destination)
    #expect(result.origin == .remote(working.appendingPathComponent(file.compressedName)))
    #expect(Self.entries(of: destination) == [file.name])
  }

  @Test(.needsRealMNIST) func damagedDestinationFileIsReplaced() async throws {
    let real = try #require(TestSupport.mnistMirror)
    let file = MNISTFile.testLabels
    let destination = try TestSupport.temporaryDirectory("mnist-raw")
    let target = destination.appendingPathComponent(file.name)
    try Data(IDXFixtures.labels([UInt8](repeating: 1, count: 10_000))).write(to: target)
    let result = try await MNISTDownloader(localMirror: real).download(file, into: destination)
    #expect(result.origin == .localMirror(real.appendingPathComponent(file.compressedName)))
    let labels = try MNISTIDX.parseLabels(
      [UInt8](try Data(contentsOf: target)),
      file: target.path,
      expectedCount: 10_000
    )
    #expect(labels.prefix(5) == [7, 2, 1, 0, 4])
  }

  /// A download killed mid-write leaves its temporary file; the next download of that file
  /// removes it, but not the temporary file of a writer that is still running.
  @Test(.needsRealMNIST) func temporaryFilesOfKilledDownloadsAreSwept() async throws {
    let real = try #require(TestSupport.mnistMirror)
    let file = MNISTFile.testLabels
    let destination = try TestSupport.temporaryDirectory("mnist-raw")
    let dead = ".\(file.name).partial-2147483646-0A9F"  // above any pid_max
    let live = ".\(file.name).partial-\(ProcessInfo.processInfo.processIdentifier)-77E1"
    for name in [dead, live] {
      try Data([1, 2, 3]).write(to: destination.appendingPathComponent(name))
    }
    _ = try await MNISTDownloader(localMirror: real).download(file, into: destination)
    #expect(Set(Self.entries(of: destination)) == [file.name, live])
  }

  @Test(.needsRealMNIST) func uncompressedMirrorFilesAreAccepted() async throws {
    let real = try #require(TestSupport.mnistMirror)
    let file = MNISTFile.trainLabels
    let first = try TestSupport.temporaryDirectory("mnist-raw")
    _ = try await MNISTDownloader(localMirror: real).download(file, into: first)
    // The decompressed copy now serves as an uncompressed mirror.
    let second = try TestSupport.temporaryDirectory("mnist-raw")
    let result = try await MNISTDownloader(localMirror: first).download(file, into: second)
    #expect(result.origin == .localMirror(first.appendingPathComponent(file.name)))
  }

  /// Once stored elsewhere, the downloads go: the files, dead writers' temporaries and the
  /// emptied folder; a live writer's temporary, and with it the folder, stays.
  @Test(.needsRealMNIST) func removingDownloadsLeavesNoCopyBehind() async throws {
    let real = try #require(TestSupport.mnistMirror)
    let parent = try TestSupport.temporaryDirectory("mnist-raw")
    let destination = parent.appendingPathComponent("mnist")
    let downloader = MNISTDownloader(localMirror: real, transport: Self.offline)
    var downloads = [
      try await downloader.download(.testLabels, into: destination),
      try await downloader.download(.trainLabels, into: destination),
    ]
    let dead = ".\(MNISTFile.testLabels.name).partial-2147483646-0A9F"  // above any pid_max
    try Data([1, 2, 3]).write(to: destination.appendingPathComponent(dead))
    #expect(downloader.removeDownloads(downloads, from: destination).isEmpty)
    #expect(!FileManager.default.fileExists(atPath: destination.path), "the empty folder goes")

    downloads = [try await downloader.download(.testLabels, into: destination)]
    let live = ".\(MNISTFile.trainLabels.name).partial-\(getpid())-77E1"
    try Data([1, 2, 3]).write(to: destination.appendingPathComponent(live))
    #expect(downloader.removeDownloads(downloads, from: destination).isEmpty)
    #expect(Self.entries(of: destination) == [live], "another download's file is not ours")
  }

  /// A mirror that is the download folder keeps its own files: only the decompressed copies
  /// the download made go.
  @Test(.needsRealMNIST) func removingDownloadsKeepsTheMirrorsOwnFiles() async throws {
    let real = try #require(TestSupport.mnistMirror)
    let mirror = try TestSupport.temporaryDirectory("mnist-mirror")
    // The user's mirror: one file gzipped (a link to the real one), one uncompressed.
    try FileManager.default.createSymbolicLink(
      at: mirror.appendingPathComponent(MNISTFile.trainLabels.compressedName),
      withDestinationURL: real.appendingPathComponent(MNISTFile.trainLabels.compressedName)
    )
    _ = try await MNISTDownloader(localMirror: real).download(.testLabels, into: mirror)
    let before = Set(Self.entries(of: mirror))
    let downloader = MNISTDownloader(localMirror: mirror, transport: Self.offline)
    let downloads = [
      try await downloader.download(.testLabels, into: mirror),
      try await downloader.download(.trainLabels, into: mirror),
    ]
    #expect(downloads.map(\.origin).first == .reused)
    #expect(Set(Self.entries(of: mirror)) == before.union([MNISTFile.trainLabels.name]))
    #expect(downloader.removeDownloads(downloads, from: mirror).isEmpty)
    #expect(Set(Self.entries(of: mirror)) == before)
  }

  @Test func mirrorFromEnvironment() {
    #expect(
      MNISTDownloader.localMirror(from: ["DBAL_MNIST_MIRROR": "/data/mnist"])
        == URL(fileURLWithPath: "/data/mnist")
    )
    #expect(MNISTDownloader.localMirror(from: ["DBAL_MNIST_MIRROR": ""]) == nil)
    #expect(MNISTDownloader.localMirror(from: [:]) == nil)
  }

  @Test func catalogueMatchesPublishedFiles() {
    #expect(
      MNISTFile.all.map(\.compressedName) == [
        "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
      ]
    )
    for file in MNISTFile.all {
      let side = file.kind == .images ? 28 * 28 : 1
      #expect(file.byteCount == (file.kind == .images ? 16 : 8) + file.itemCount * side)
      #expect(file.sha256.count == 64)
    }
  }
}
