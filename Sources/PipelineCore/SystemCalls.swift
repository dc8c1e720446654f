import Foundation
import Glibc

/// The module's only direct use of POSIX calls, each turned into a typed error.
enum SystemCalls {
  /// The current process id.
  static var processID: Int32 { getpid() }

  /// The host name, for manifests.
  static var hostName: String {
    var buffer = [CChar](repeating: 0, count: 256)
    guard gethostname(&buffer, buffer.count - 1) == 0 else { return "unknown" }
    return String(decoding: buffer.prefix { $0 != 0 }.map(UInt8.init(bitPattern:)), as: UTF8.self)
  }

  /// Whether a process with this id exists (a zombie or another user's process counts).
  static func isProcessAlive(_ pid: Int32) -> Bool {
    guard pid > 0 else { return false }
    return kill(pid, 0) == 0 || errno == EPERM
  }

  /// Flushes a file's or directory's data and metadata to stable storage.
  static func synchronize(_ url: URL, isDirectory: Bool = false) throws {
    let descriptor = open(url.path, isDirectory ? (O_RDONLY | O_DIRECTORY) : O_RDONLY)
    guard descriptor >= 0 else { throw error("open for fsync", url) }
    defer { close(descriptor) }
    guard fsync(descriptor) == 0 else { throw error("fsync", url) }
  }

  /// Atomically renames `source` to `destination` (same file system).
  static func rename(_ source: URL, to destination: URL) throws {
    guard Glibc.rename(source.path, destination.path) == 0 else {
      throw error("rename to \(destination.path)", source)
    }
  }

  /// Opens (creating if needed) a lock file and returns its descriptor.
  static func openLockFile(_ url: URL) throws -> Int32 {
    let descriptor = open(url.path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
    guard descriptor >= 0 else { throw error("open lock file", url) }
    return descriptor
  }

  /// Tries to take an exclusive `flock` without blocking; false if another open file
  /// description (in this or another process) holds it.
  static func tryLockExclusive(_ descriptor: Int32, _ url: URL) throws -> Bool {
    try tryLock(descriptor, url, shared: false)
  }

  /// Tries to take a shared or exclusive `flock` without blocking; false if a conflicting lock
  /// is held through another open file description.
  static func tryLock(_ descriptor: Int32, _ url: URL, shared: Bool) throws -> Bool {
    while true {
      if flock(descriptor, (shared ? LOCK_SH : LOCK_EX) | LOCK_NB) == 0 { return true }
      switch errno {
      case EWOULDBLOCK: return false
      case EINTR: continue
      default: throw error("flock", url)
      }
    }
  }

  /// Closes a descriptor, releasing any `flock` held through it.
  static func close(_ descriptor: Int32) {
    _ = Glibc.close(descriptor)
  }

  private static func error(_ operation: String, _ url: URL) -> PipelineError {
    PipelineError.fileSystem(
      operation: operation,
      path: url.path,
      reason: String(cString: strerror(errno))
    )
  }
}
