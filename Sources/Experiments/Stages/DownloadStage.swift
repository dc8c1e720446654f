import Dispatch
import Foundation
import HDF5Store
import MNIST
import PipelineCore

/// Fetches the four MNIST files (local mirror or public mirrors, SHA-256 verified) into
/// `<data-dir>/mnist/`, stores their decompressed bytes as one HDF5 artifact, and removes the
/// fetched files: the artifact is the one raw copy of MNIST in the data directory.
///
/// The files wait in `<data-dir>/mnist/` only while the stage runs: a run that is interrupted
/// leaves the ones it has verified there, and the next run reuses them instead of fetching
/// them again. A local mirror's own files are never removed, even if the mirror is that folder.
///
/// The expected digests are the stage's parameters, so the cache key says exactly which bytes
/// were used; where they came from (mirror directory, URL) is a non-semantic setting.
///
/// Earlier builds kept the fetched files after storing them. The artifact, and so every
/// downstream key, is the same, so the version was not bumped: a data directory they wrote
/// keeps its redundant `mnist/` folder until it is deleted by hand or the stage runs again
/// (which reuses those files, then removes them).
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
    // The artifact now holds every byte. Should the process die before the runner commits
    // it, the next run fetches the files again (from the mirror or the network).
    for failure in downloader.removeDownloads(files, from: destination) {
      context.log("could not remove a fetched MNIST file, a redundant copy: \(failure)")
    }
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
