import Crypto
import Foundation

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif
#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

// MARK: - Downloader

/// Fetches the four MNIST files into a directory, decompressed and verified.
///
/// For each file it reuses a copy already in the directory when its SHA-256 matches;
/// otherwise it reads the file from the local mirror when one is given (`name.gz` or the
/// uncompressed `name`), else from the public mirrors in order. The decompressed content
/// is checked against the published length and SHA-256 *before* anything is written, then
/// written under a temporary name, `fsync`ed and renamed into place: an interrupted or
/// failed download never leaves a file that looks good.
///
/// ```swift
/// let downloader = MNISTDownloader(localMirror: MNISTDownloader.localMirror())
/// let files = try await downloader.download(into: rawDirectory)
/// ```
public struct MNISTDownloader: Sendable {
  /// Fetches the bytes at a URL; replaceable so tests can stand in for the network.
  public typealias Transport = @Sendable (URL) async throws -> Data

  /// Public mirrors of the gzip files, tried in order.
  public static let publicMirrors: [URL] = [
    URL(string: "https://ossci-datasets.s3.amazonaws.com/mnist/")!,
    URL(string: "https://storage.googleapis.com/cvdf-datasets/mnist/")!,
    URL(string: "http://yann.lecun.com/exdb/mnist/")!,
  ]

  /// The environment variable naming a local mirror directory.
  public static let mirrorEnvironmentVariable = "DBAL_MNIST_MIRROR"

  /// A directory holding the files (`name.gz` or `name`); when set, the network is not used.
  public var localMirror: URL?
  /// Base URLs tried in order when there is no local mirror.
  public var remoteMirrors: [URL]
  private let transport: Transport

  /// Creates a downloader.
  ///
  /// - Parameters:
  ///   - localMirror: a directory to copy the files from instead of the network.
  ///   - remoteMirrors: base URLs to try in order.
  ///   - transport: how bytes are fetched from a URL (`URLSession` by default).
  public init(
    localMirror: URL? = nil,
    remoteMirrors: [URL] = MNISTDownloader.publicMirrors,
    transport: @escaping Transport = MNISTDownloader.urlSessionTransport
  ) {
    self.localMirror = localMirror
    self.remoteMirrors = remoteMirrors
    self.transport = transport
  }

  /// The local mirror named by `DBAL_MNIST_MIRROR` in `environment`, if set and not empty.
  public static func localMirror(
    from environment: [String: String] = ProcessInfo.processInfo.environment
  ) -> URL? {
    guard let path = environment[mirrorEnvironmentVariable], !path.isEmpty else { return nil }
    return URL(fileURLWithPath: path)
  }

  /// Fetches with `URLSession`, treating any HTTP status outside 200...299 as a failure.
  public static let urlSessionTransport: Transport = { url in
    let configuration = URLSessionConfiguration.ephemeral
    configuration.timeoutIntervalForRequest = 30
    let session = URLSession(configuration: configuration)
    defer { session.finishTasksAndInvalidate() }
    let (data, response) = try await session.data(from: url)
    if let http = response as? HTTPURLResponse, !(200...299).contains(http.statusCode) {
      throw MNISTError.httpStatus(url: url.absoluteString, status: http.statusCode)
    }
    return data
  }

  // MARK: Downloading

  /// Makes `directory` hold all four decompressed, verified files.
  ///
  /// - Returns: where each file is and where it came from, in ``MNISTFile/all`` order.
  public func download(into directory: URL) async throws -> [MNISTDownloadedFile] {
    var results: [MNISTDownloadedFile] = []
    for file in MNISTFile.all {
      results.append(try await download(file, into: directory))
    }
    return results
  }

  /// Makes `directory` hold `file`, decompressed and verified, under its published name.
  public func download(_ file: MNISTFile, into directory: URL) async throws -> MNISTDownloadedFile {
    do {
      try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    } catch {
      throw MNISTError.fileSystem(
        file: directory.path,
        operation: "create directory",
        message: "\(error)"
      )
    }
    let destination = directory.appendingPathComponent(file.name)
    if let existing = FileManager.default.contents(atPath: destination.path),
      existing.count == file.byteCount, Self.sha256Hex(existing) == file.sha256
    {
      return MNISTDownloadedFile(file: file, location: destination, origin: .reused)
    }
    let (content, origin) = try await fetch(file)
    try FileIO.writeAtomically(content, to: destination.path)
    return MNISTDownloadedFile(file: file, location: destination, origin: origin)
  }

  // MARK: Cleaning up

  /// Removes what ``download(into:)`` placed in `directory` (and returned as `downloads`) once
  /// the caller has stored the content elsewhere (the pipeline keeps MNIST in one HDF5 artifact
  /// and nowhere else): the files of `downloads`, temporaries that killed downloads left for
  /// them, and `directory` itself when that leaves it empty.
  ///
  /// Files that are the local mirror's own are kept: when `directory` is the mirror, a file
  /// the download reused from there is the user's, not a copy the download made.
  ///
  /// - Returns: one line per file that could not be removed, for the caller to pass on (they
  ///   are redundant copies, not work: the download stage logs them rather than failing).
  @discardableResult
  public func removeDownloads(_ downloads: [MNISTDownloadedFile], from directory: URL) -> [String] {
    func resolved(_ url: URL) -> String { url.standardizedFileURL.resolvingSymlinksInPath().path }
    let directoryIsMirror = localMirror.map { resolved($0) == resolved(directory) } ?? false
    var failures: [String] = []
    for download in downloads {
      guard !(directoryIsMirror && download.origin == .reused) else { continue }
      let path = download.location.path
      FileIO.removeStaleTemporaries(of: download.file.name, in: directory.path)
      if unlink(path) != 0 && errno != ENOENT {
        failures.append("\(path): \(String(cString: strerror(errno)))")
      }
    }
    // Only an empty directory goes (rmdir refuses otherwise): anything else in it stays.
    _ = rmdir(directory.path)
    return failures
  }

  /// The verified decompressed content of `file` and where it came from.
  private func fetch(_ file: MNISTFile) async throws -> ([UInt8], MNISTDownloadedFile.Origin) {
    if let localMirror {
      let candidates = [file.compressedName, file.name].map {
        localMirror.appendingPathComponent($0)
      }
      guard
        let source = candidates.first(where: { FileManager.default.fileExists(atPath: $0.path) })
      else {
        throw MNISTError.missingFromMirror(file: file.name, mirror: localMirror.path)
      }
      let content = try Self.verifiedContent(
        of: file,
        from: try FileIO.read(source.path),
        source: source.path
      )
      return (content, .localMirror(source))
    }
    var attempts: [String] = []
    for mirror in remoteMirrors {
      let url = mirror.appendingPathComponent(file.compressedName)
      do {
        let content = try Self.verifiedContent(
          of: file,
          from: [UInt8](try await transport(url)),
          source: url.absoluteString
        )
        return (content, .remote(url))
      } catch {
        attempts.append("\(url.absoluteString): \(error)")
      }
    }
    throw MNISTError.unavailable(file: file.name, attempts: attempts)
  }

  /// `bytes` decompressed when they are gzip, after checking length and SHA-256.
  static func verifiedContent(
    of file: MNISTFile,
    from bytes: [UInt8],
    source: String
  )
    throws(MNISTError) -> [UInt8]
  {
    let content =
      Gzip.isCompressed(bytes)
      ? try Gzip.decompress(bytes, file: source, expectedSize: file.byteCount) : bytes
    guard content.count == file.byteCount else {
      throw .wrongLength(file: source, expected: file.byteCount, actual: content.count)
    }
    let digest = sha256Hex(content)
    guard digest == file.sha256 else {
      throw .checksumMismatch(
        file: file.name,
        source: source,
        expected: file.sha256,
        actual: digest
      )
    }
    return content
  }

  /// The SHA-256 of `bytes` as lowercase hex.
  static func sha256Hex(_ bytes: some DataProtocol) -> String {
    SHA256.hash(data: bytes).map { byte in
      let hex = String(byte, radix: 16)
      return byte < 16 ? "0" + hex : hex
    }.joined()
  }
}

/// One file made available by ``MNISTDownloader``.
public struct MNISTDownloadedFile: Sendable, Equatable {
  /// Where the file's content came from.
  public enum Origin: Sendable, Equatable {
    /// A verified copy was already in the destination directory.
    case reused
    /// Copied (and decompressed) from this file in the local mirror.
    case localMirror(URL)
    /// Downloaded from this URL.
    case remote(URL)
  }

  /// Which file this is.
  public var file: MNISTFile
  /// The decompressed, verified file.
  public var location: URL
  /// Where its content came from.
  public var origin: Origin
}
