import Foundation

/// The machine a report's results were computed on.
public struct SystemInfo: Sendable, Equatable, Hashable {
  /// The CPU model name (for example `Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz`).
  public var cpuModel: String
  /// Logical CPU cores available to the process.
  public var cores: Int
  /// Physical memory in bytes.
  public var memoryBytes: UInt64
  /// The operating system (for example `Linux 6.1.0-18-amd64`).
  public var operatingSystem: String

  /// Creates a record from known values.
  public init(cpuModel: String, cores: Int, memoryBytes: UInt64, operatingSystem: String) {
    self.cpuModel = cpuModel
    self.cores = cores
    self.memoryBytes = memoryBytes
    self.operatingSystem = operatingSystem
  }

  /// Reads the current machine: on Linux the CPU model from `/proc/cpuinfo`, memory from
  /// `/proc/meminfo` and the kernel from `/proc/sys/kernel/osrelease`; elsewhere (or when a
  /// file is missing) Foundation's `ProcessInfo`, with `unknown` for the CPU model.
  public static func current() -> SystemInfo {
    let process = ProcessInfo.processInfo
    let cpuInfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
    let memInfo = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8)
    let release = try? String(contentsOfFile: "/proc/sys/kernel/osrelease", encoding: .utf8)
    return SystemInfo(
      cpuModel: cpuInfo.flatMap(cpuModel(fromCPUInfo:)) ?? "unknown",
      cores: process.activeProcessorCount,
      memoryBytes: memInfo.flatMap(memoryBytes(fromMemInfo:)) ?? process.physicalMemory,
      operatingSystem: release.map { "Linux " + $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        ?? process.operatingSystemVersionString
    )
  }

  // MARK: - /proc parsing

  /// The first `model name` field of a `/proc/cpuinfo` text.
  static func cpuModel(fromCPUInfo text: String) -> String? {
    field("model name", in: text)
  }

  /// `MemTotal` of a `/proc/meminfo` text, converted from kB to bytes.
  static func memoryBytes(fromMemInfo text: String) -> UInt64? {
    guard let value = field("MemTotal", in: text),
      let kilobytes = UInt64(value.split(separator: " ").first ?? "")
    else { return nil }
    return kilobytes * 1024
  }

  private static func field(_ name: String, in text: String) -> String? {
    for line in text.split(separator: "\n") {
      let parts = line.split(separator: ":", maxSplits: 1)
      guard parts.count == 2,
        parts[0].trimmingCharacters(in: .whitespaces) == name
      else { continue }
      return parts[1].trimmingCharacters(in: .whitespaces)
    }
    return nil
  }
}
