import Foundation

/// An open HDF5 file: groups, n-dimensional datasets, string datasets and attributes.
///
/// Every call is serialised through one process-wide recursive lock, so a file may be
/// shared across tasks, and independent files may be used from any thread. The file is
/// closed by ``close()`` or, failing that, when the last reference goes away.
///
/// Files are written with the library's earliest format bounds (a writer killed before
/// closing leaves a file that fails to open rather than one that needs `h5clear`) and
/// without object time stamps, so writing equal content gives byte-identical files.
/// HDF5 never `fsync`s: to publish a file atomically, write it under a temporary name,
/// close it, `fsync` it and rename it into place.
///
/// ```swift
/// let file = try HDF5File.create("/tmp/weights.h5")
/// try file.write([1, 2, 3, 4] as [Float], shape: [2, 2], to: "layers/dense/kernel")
/// try file.setAttribute("epochs", .int(50))
/// try file.close()
/// ```
public final class HDF5File: @unchecked Sendable {  // mutable state is guarded by the HDF5 lock
  /// How an existing file is opened.
  public enum Mode: Sendable {
    /// Reads only; several readers may open the same file.
    case readOnly
    /// Reads and writes.
    case readWrite
  }

  /// The file's path, as given when it was created or opened.
  public let path: String
  /// Whether the file accepts writes.
  public let mode: Mode
  private var handle: HDF5Handle?

  private init(path: String, mode: Mode, handle: HDF5Handle) {
    self.path = path
    self.mode = mode
    self.handle = handle
  }

  // MARK: - Opening and closing

  /// Creates a new file at `path`, replacing any existing file, open for reading and writing.
  public static func create(_ path: String) throws -> HDF5File {
    try HDF5Runtime.serialized { () throws(HDF5Error) in
      let handle = try HDF5Site(file: path, object: "/").createFile()
      return HDF5File(path: path, mode: .readWrite, handle: handle)
    }
  }

  /// Opens the existing file at `path`.
  ///
  /// - Throws: ``HDF5Error/fileNotFound(path:)`` when nothing is at `path`,
  ///   ``HDF5Error/notHDF5(path:)`` when the file is not (or no longer) an HDF5 file.
  public static func open(_ path: String, mode: Mode = .readOnly) throws -> HDF5File {
    guard FileManager.default.fileExists(atPath: path) else {
      throw HDF5Error.fileNotFound(path: path)
    }
    guard HDF5Runtime.isHDF5(path) else { throw HDF5Error.notHDF5(path: path) }
    return try HDF5Runtime.serialized { () throws(HDF5Error) in
      let handle = try HDF5Site(file: path, object: "/").openFile(writable: mode == .readWrite)
      return HDF5File(path: path, mode: mode, handle: handle)
    }
  }

  /// Flushes pending writes and closes the file. Calling it again does nothing; any other
  /// call after closing is a programmer error.
  public func close() throws {
    try HDF5Runtime.serialized { () throws(HDF5Error) in
      guard let handle else { return }
      self.handle = nil
      let site = HDF5Site(file: path, object: "/")
      if mode == .readWrite { try site.flush(handle) }
      try site.close(handle)
    }
  }

  /// Runs `body` under the library lock with the open file handle and a site naming `object`.
  func withFile<T>(
    _ object: String,
    _ body: (HDF5Handle, HDF5Site) throws(HDF5Error) -> T
  ) throws(HDF5Error) -> T {
    try HDF5Runtime.serialized { () throws(HDF5Error) in
      guard let handle else { preconditionFailure("HDF5File '\(path)' used after close()") }
      return try body(handle, HDF5Site(file: path, object: Self.normalized(object)))
    }
  }

  /// `path` as an absolute HDF5 path: a leading "/", no trailing or doubled "/".
  static func normalized(_ path: String) -> String {
    "/" + path.split(separator: "/").joined(separator: "/")
  }

  // MARK: - Groups

  /// Creates the group at `path` and any missing parent groups; an existing group is kept.
  public func createGroup(_ path: String) throws {
    try withFile(path) { (file, site) throws(HDF5Error) in try Self.createGroups(site, in: file) }
  }

  /// Whether a group or dataset exists at `path` ("a/b/c"); false when a parent is missing.
  public func exists(_ path: String) -> Bool {
    (try? withFile(path) { file, site in site.objectKind(in: file) != nil }) ?? false
  }

  /// The paths of every dataset in the file, recursively, sorted, without a leading "/".
  public func datasetPaths() throws -> [String] {
    try withFile("/") { (file, site) throws(HDF5Error) in try site.datasetPaths(in: file).sorted() }
  }

  /// Creates `site.object` and its missing ancestors as groups.
  static func createGroups(_ site: HDF5Site, in file: HDF5Handle) throws(HDF5Error) {
    var prefix = ""
    for component in site.object.split(separator: "/") {
      prefix += "/" + component
      let level = site.at(prefix)
      switch level.objectKind(in: file) {
      case .group: continue
      case nil: try level.createGroup(in: file)
      case .dataset, .other:
        throw .typeMismatch(
          file: site.file,
          object: prefix,
          expected: "a group",
          found: "a dataset"
        )
      }
    }
  }

  /// Creates the parent groups of `site.object` and checks that the object itself is new.
  static func prepareNewObject(_ site: HDF5Site, in file: HDF5Handle) throws(HDF5Error) {
    guard site.objectKind(in: file) == nil else {
      throw .objectExists(file: site.file, object: site.object)
    }
    let parent = site.object.split(separator: "/").dropLast().joined(separator: "/")
    try createGroups(site.at("/" + parent), in: file)
  }
}
