import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

// MARK: - Durable file operations

/// Whole-file reads, and writes that are atomic and durable: a crash leaves either the old
/// state or the complete new file, never a partial file under the final name.
enum FileIO {
  /// The bytes of the file at `path`.
  static func read(_ path: String) throws(MNISTError) -> [UInt8] {
    guard let data = FileManager.default.contents(atPath: path) else {
      let reason = FileManager.default.fileExists(atPath: path) ? "not readable" : "no such file"
      throw .fileSystem(file: path, operation: "read", message: reason)
    }
    return [UInt8](data)
  }

  /// Writes `bytes` to a temporary file next to `path`, `fsync`s it, renames it to `path`
  /// and `fsync`s the directory, so the rename itself survives a crash.
  ///
  /// Temporary files of `path` left by writers that were killed mid-write are removed first.
  static func writeAtomically(_ bytes: [UInt8], to path: String) throws(MNISTError) {
    let directory = (path as NSString).deletingLastPathComponent
    let name = (path as NSString).lastPathComponent
    removeStaleTemporaries(of: name, in: directory)
    let temporary = (directory as NSString).appendingPathComponent(
      ".\(name).partial-\(getpid())-\(UUID().uuidString)"
    )
    do throws(MNISTError) {
      try writeAndSync(bytes, to: temporary)
      guard rename(temporary, path) == 0 else { throw failure(path, "rename into place") }
      try syncDirectory(directory)
    } catch {
      unlink(temporary)
      throw error
    }
  }

  /// Deletes `.NAME.partial-PID-UUID` files in `directory` whose writer process no longer
  /// exists; a live writer's file (another download in progress) is left alone.
  static func removeStaleTemporaries(of name: String, in directory: String) {
    let prefix = ".\(name).partial-"
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
    for entry in entries where entry.hasPrefix(prefix) {
      let pid = entry.dropFirst(prefix.count).prefix { $0.isNumber }
      guard let pid = pid_t(pid), pid > 0, kill(pid, 0) != 0, errno == ESRCH else { continue }
      unlink((directory as NSString).appendingPathComponent(entry))
    }
  }

  private static func writeAndSync(_ bytes: [UInt8], to path: String) throws(MNISTError) {
    let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
    guard descriptor >= 0 else { throw failure(path, "create") }
    defer { close(descriptor) }
    var written = 0
    while written < bytes.count {
      let result = bytes.withUnsafeBytes { buffer in
        write(descriptor, buffer.baseAddress! + written, buffer.count - written)
      }
      if result < 0 {
        if errno == EINTR { continue }
        throw failure(path, "write")
      }
      written += result
    }
    guard fsync(descriptor) == 0 else { throw failure(path, "fsync") }
  }

  private static func syncDirectory(_ directory: String) throws(MNISTError) {
    let descriptor = open(directory.isEmpty ? "." : directory, O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else { throw failure(directory, "open directory") }
    defer { close(descriptor) }
    guard fsync(descriptor) == 0 else { throw failure(directory, "fsync directory") }
  }

  private static func failure(_ path: String, _ operation: String) -> MNISTError {
    .fileSystem(file: path, operation: operation, message: String(cString: strerror(errno)))
  }
}
