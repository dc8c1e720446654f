import Dispatch
import Foundation
import HDF5Store
import MNIST
import PipelineCore

/// Fetches the four MNIST files (local mirror or public mirrors, SHA-256 verified) into
/// `<data-dir>/mnist/` and stores their decompressed bytes as one HDF5 artifact.
///
/// The expected digests are the stage's parameters, so the cache key says exactly which bytes
/// were used; where they came from (mirror directory, URL) is a non-semantic setting.
public struct DownloadStage: Stage {
  /// The files to fetch, each with the SHA-256 of its decompressed content.
  public struct Parameters: Codable, Sendable, Hashable {
    /// File name -> expected SHA-256 (hex) of the decompressed content.
    public var files: [String: String]
  }

  /// The stage kind, part of every cache key.
  public static let kind = "download"
  /// Bumped whenever the stage\'s logic changes.
  public static let version = 1
  /// The semantic parameters (all enter the cache key).
  public var parameters = Parameters(
    files: Dictionary(uniqueKeysWithValues: MNISTFile.all.map { ($0.name, $0.sha256) })
  )
  /// The HDF5 artifacts the stage writes.
  public var outputs: [String] { ["raw"] }

  /// Creates the stage for the published MNIST files.
  public init() {}

  /// Runs the stage; see the type\'s documentation.
  public func run(_ context: StageContext) throws {
    let dataDirectory = URL(fileURLWithPath: context.settings["data-dir"] ?? "./Data")
    let destination = dataDirectory.appendingPathComponent("mnist")
    try FileManager.default.createDirectory(at: destination, withIntermediateDirectories: true)
    let downloader = MNISTDownloader(
      localMirror: context.settings["mnist-mirror"].map { URL(fileURLWithPath: $0) }
    )
    let files = try blocking { try await downloader.download(into: destination) }
    let raw = try HDF5File.create(context.outputURL("raw").path)
    for file in files.sorted(by: { $0.file.name < $1.file.name }) {
      let bytes = try [UInt8](Data(contentsOf: file.location))
      try raw.write(
        bytes,
        shape: [bytes.count],
        to: file.file.name,
        compression: .deflate(level: 1)
      )
      try raw.setAttribute("sha256", .string(file.file.sha256), on: file.file.name)
    }
    try raw.close()
  }
}

/// Runs async work to completion from synchronous stage code (stages run on worker threads,
/// never on the cooperative pool, so blocking here cannot starve it).
func blocking<T: Sendable>(_ work: @escaping @Sendable () async throws -> T) throws -> T {
  let box = ResultBox<T>()
  let done = DispatchSemaphore(value: 0)
  Task {
    do { box.result = .success(try await work()) } catch { box.result = .failure(error) }
    done.signal()
  }
  done.wait()
  return try box.result!.get()
}

/// Carries a result from a task back to the blocked thread (guarded by the semaphore).
private final class ResultBox<T>: @unchecked Sendable {
  var result: Result<T, any Error>?
}

/// The SHA-256 digests of the published MNIST files (decompressed), for provenance.
public enum MNISTSources {
  /// File name -> SHA-256 (hex).
  public static var digests: [String: String] {
    Dictionary(uniqueKeysWithValues: MNISTFile.all.map { ($0.name, $0.sha256) })
  }
}
