import Foundation
import TestSupport

/// A directory nobody may write: `chmod 555` for ordinary users; for root, which ignores
/// permissions, a read-only tmpfs (where the machine lets root mount).
struct ReadOnlyDirectory {
  let url: URL
  private let isMount: Bool

  /// Whether one can be made here.
  static let isAvailable: Bool = {
    guard getuid() == 0 else { return true }
    return TemporaryMount.canMount
  }()

  init() throws {
    let url = try TestSupport.temporaryDirectory("read-only")
    if getuid() == 0 {
      try TemporaryMount.mount(at: url, options: "ro,size=1m")
      isMount = true
    } else {
      chmod(url.path, 0o555)
      isMount = false
    }
    self.url = url
  }

  func remove() {
    if isMount { TemporaryMount.unmount(url) } else { chmod(url.path, 0o755) }
  }
}

/// Small tmpfs mounts for disk-full and read-only scenarios (root only, where permitted).
enum TemporaryMount {
  /// Whether `mount -t tmpfs` works here (root in a container that allows it).
  static let canMount: Bool = {
    guard getuid() == 0, let probe = try? TestSupport.temporaryDirectory("mount-probe") else {
      return false
    }
    guard (try? mount(at: probe, options: "size=64k")) != nil else { return false }
    unmount(probe)
    return true
  }()

  static func mount(at url: URL, options: String) throws {
    guard shell("/bin/mount", ["-t", "tmpfs", "-o", options, "tmpfs", url.path]) == 0 else {
      throw HarnessError.binaryUnavailable("mount -t tmpfs -o \(options) failed")
    }
  }

  static func unmount(_ url: URL) { _ = shell("/bin/umount", [url.path]) }

  /// Runs a tool quietly and returns its exit status (-1 if it cannot start).
  @discardableResult
  static func shell(_ tool: String, _ arguments: [String]) -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: tool)
    process.arguments = arguments
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    guard (try? process.run()) != nil else { return -1 }
    process.waitUntilExit()
    return process.terminationStatus
  }
}
