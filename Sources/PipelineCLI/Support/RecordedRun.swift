import Experiments
import Foundation
import HDF5Store
import NeuralEngine
import Reports

/// What a `reproduce` run records about itself for the report's provenance section, so that
/// re-rendering from the same cache gives byte-identical reports.
struct RecordedRun: Codable {
  var command: String
  var gitCommit: String?
  var gitDirty: Bool
  var wallSeconds: Double
  var cpuModel: String
  var cores: Int
  var memoryBytes: UInt64
  var operatingSystem: String
  var swiftVersion: String
  var hdf5Version: String
  var oneDNNVersion: String
  var oneDNNISA: String
  /// Rounds (per cell id) whose evaluation this run executed rather than reused.
  var executedRounds: [String: [Int]]
  /// SHA-256 of the source MNIST files.
  var sources: [String: String]

  var system: SystemInfo {
    SystemInfo(
      cpuModel: cpuModel,
      cores: cores,
      memoryBytes: memoryBytes,
      operatingSystem: operatingSystem
    )
  }
  var software: SoftwareVersions {
    SoftwareVersions(
      swift: swiftVersion,
      hdf5: hdf5Version,
      oneDNN: oneDNNVersion,
      oneDNNISA: oneDNNISA
    )
  }
  var sourceDigests: [(name: String, sha256: String)] {
    sources.sorted { $0.key < $1.key }.map { (name: $0.key, sha256: $0.value) }
  }

  /// A record of a run on this machine by this binary: its code version
  /// (``ToolInfo/codeVersion``), hardware and software versions, with the command, wall time
  /// and executed rounds the caller measured.
  static func onThisMachine(
    command: String,
    wallSeconds: Double,
    executedRounds: [String: [Int]]
  ) -> RecordedRun {
    let git = ToolInfo.codeVersion
    let system = SystemInfo.current()
    let software = ToolInfo.softwareVersions()
    return RecordedRun(
      command: command,
      gitCommit: git.commit,
      gitDirty: git.dirty,
      wallSeconds: wallSeconds,
      cpuModel: system.cpuModel,
      cores: system.cores,
      memoryBytes: system.memoryBytes,
      operatingSystem: system.operatingSystem,
      swiftVersion: software.swift,
      hdf5Version: software.hdf5,
      oneDNNVersion: software.oneDNN,
      oneDNNISA: software.oneDNNISA,
      executedRounds: executedRounds,
      sources: MNISTSources.digests
    )
  }

  /// Executed rounds per cell, the union of `a` and `b`, each cell's rounds ascending.
  static func merge(_ a: [String: [Int]], _ b: [String: [Int]]) -> [String: [Int]] {
    var merged = a
    for (cell, rounds) in b {
      merged[cell] = Array(Set(merged[cell, default: []] + rounds)).sorted()
    }
    return merged
  }

  static func url(_ dataDirectory: URL, _ name: String) -> URL {
    dataDirectory.appendingPathComponent("runs/\(name).provenance.json")
  }

  static func load(_ dataDirectory: URL, _ name: String) -> RecordedRun? {
    guard let data = try? Data(contentsOf: url(dataDirectory, name)) else { return nil }
    return try? JSONDecoder().decode(RecordedRun.self, from: data)
  }

  /// Writes atomically (temporary file, then rename).
  func save(_ dataDirectory: URL, _ name: String) throws {
    let target = Self.url(dataDirectory, name)
    try FileManager.default.createDirectory(
      at: target.deletingLastPathComponent(),
      withIntermediateDirectories: true
    )
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    try encoder.encode(self).write(to: target, options: .atomic)
  }
}

/// The tool's own identity and the versions of what it runs on.
enum ToolInfo {
  /// The tool version recorded in manifests.
  static let version = "0.1.0"

  static func softwareVersions() -> SoftwareVersions {
    SoftwareVersions(
      swift: swiftVersion,
      hdf5: HDF5Library.version,
      oneDNN: ComputeEngine.oneDNNVersion,
      oneDNNISA: environment["onednn-isa"] ?? "unknown"
    )
  }

  /// The code and machine facts recorded in every manifest: what can change results in the
  /// last bits (the code, oneDNN's instruction set, the thread count that fixes summation
  /// orders) and the CPU, computed once per process.
  static let environment: [String: String] = {
    let git = codeVersion
    let threads =
      ProcessInfo.processInfo.environment["OMP_NUM_THREADS"]
      ?? String(ProcessInfo.processInfo.activeProcessorCount)
    return [
      "code-version": git.commit ?? "unknown (not a git checkout)",
      "code-dirty": git.commit == nil ? "unknown" : String(git.dirty),
      "onednn-isa": (try? ComputeEngine().convolutionImplementation()) ?? "unknown",
      "threads": threads,
      "cpu": Reports.SystemInfo.current().cpuModel,
    ]
  }()

  /// The compiler that built this binary.
  static var swiftVersion: String {
    #if compiler(>=6.3)
      "6.3 or later"
    #elseif compiler(>=6.2)
      "6.2"
    #else
      "6.1"
    #endif
  }

  /// The code this process runs, as manifests, bundles and reports record it: the commit this
  /// binary was built from (`BuildCodeVersion`, written by `Scripts/code-version` before each
  /// build), dirty when its checkout had changes then, or when the checkout the command runs
  /// in has changes now (the target documents are read from it). A binary built outside a git
  /// checkout falls back to the checkout it runs in.
  ///
  /// When the checkout it runs in is at another commit than the binary's, warns once on
  /// standard error: the documents come from that checkout, the code from the binary.
  static let codeVersion: (commit: String?, dirty: Bool) = {
    let checkout = gitState()
    guard let built = BuildCodeVersion.commit else { return checkout }
    if let commit = checkout.commit, commit != built {
      FileHandle.standardError.write(
        Data(
          ("warning: this pipeline binary was built from \(built.prefix(7)), but the checkout "
            + "here is at \(commit.prefix(7)); manifests record the binary's commit. Build the "
            + "binary from this checkout (`swift build -c release`) to record one version.\n")
            .utf8
        )
      )
    }
    return (built, BuildCodeVersion.dirty || checkout.dirty)
  }()

  /// The git commit of the checkout holding `directory` (the working directory when nil) and
  /// whether its tree has local changes outside `Reports/`; the commit is nil outside a git
  /// checkout.
  static func gitState(in directory: URL? = nil) -> (commit: String?, dirty: Bool) {
    func git(_ arguments: [String]) -> String? {
      let process = Process()
      process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
      process.arguments = ["git"] + arguments
      if let directory { process.currentDirectoryURL = directory }
      let pipe = Pipe()
      process.standardOutput = pipe
      process.standardError = FileHandle.nullDevice
      guard (try? process.run()) != nil else { return nil }
      let data = pipe.fileHandleForReading.readDataToEndOfFile()
      process.waitUntilExit()
      guard process.terminationStatus == 0 else { return nil }
      return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
    guard let commit = git(["rev-parse", "HEAD"]) else { return (nil, false) }
    // The code and the documents decide results; rendered reports (which every run rewrites)
    // do not, so they do not make a checkout dirty. Untracked files count: a new source file
    // changes the build. The pathspecs name the whole tree from its top, wherever in it the
    // directory lies; a status that cannot be read counts as dirty (clean is a claim).
    guard let status = git(["status", "--porcelain", "--", ":/", ":(top,exclude)Reports"]) else {
      return (commit, true)
    }
    return (commit, !status.isEmpty)
  }
}
