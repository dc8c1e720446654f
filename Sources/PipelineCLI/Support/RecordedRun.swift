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

  /// The code this process runs, as manifests, bundles and reports record it, and the commit
  /// of the checkout it runs in where that differs (computed once; a warning, if any, is
  /// printed then): see ``codeVersion(built:checkout:)``.
  static let codeVersion: (commit: String?, dirty: Bool, checkout: String?) = {
    let version = codeVersion(built: (BuildCodeVersion.commit, BuildCodeVersion.dirty))
    if let warning = version.warning {
      FileHandle.standardError.write(Data("warning: \(warning)\n".utf8))
    }
    return (version.commit, version.dirty, version.checkout)
  }()

  /// The code version of a binary built at `built` (`BuildCodeVersion`, which
  /// `Scripts/code-version` writes before each build) running in the checkout that holds
  /// `directory` (the working directory when nil), which the target documents are read from.
  ///
  /// - The commit is the binary's; nil (recorded as unknown) when it was built outside a git
  ///   checkout, whatever checkout it runs in.
  /// - Dirty when the binary's tree had changes outside `Reports/` when it was built, or the
  ///   checkout has such changes now.
  /// - A checkout at another commit whose code or documents differ from the binary's (changes
  ///   under `Reports/` alone do not count), or that lacks the binary's commit, also makes it
  ///   dirty, and so does a checkout git cannot read; each with a warning that says how to
  ///   record one version.
  /// - `checkout` is the checkout's commit when it is not the binary's (the documents, and the
  ///   committed bundles a report was rendered from, are that commit's); nil otherwise.
  static func codeVersion(
    built: (commit: String?, dirty: Bool),
    checkout directory: URL? = nil
  ) -> (commit: String?, dirty: Bool, warning: String?, checkout: String?) {
    guard let commit = built.commit else { return (nil, built.dirty, nil, nil) }
    let short = commit.prefix(7)
    let fix =
      "; manifests record \(short) with uncommitted changes. Build the binary in this checkout "
      + "(`swift build -c release`, or `Scripts/dbal`) to record one version."
    let checkout = gitState(in: directory)
    guard let here = checkout.commit else {
      // Outside any checkout the binary's own facts stand; a checkout git cannot read (another
      // user's, without safe.directory) may hold edited documents: clean is a claim.
      guard let root = enclosingCheckout(directory) else {
        return (commit, built.dirty, nil, nil)
      }
      return (
        commit, true,
        "git could not read the checkout at \(root.path) (another user's? `git config --global "
          + "--add safe.directory \(root.path)` lets it)" + fix, nil
      )
    }
    let dirty = built.dirty || checkout.dirty
    guard here != commit else { return (commit, dirty, nil, nil) }
    guard git(["cat-file", "-e", commit + "^{commit}"], in: directory) != nil else {
      return (
        commit, true,
        "this pipeline binary was built from \(short), a commit the checkout here (at "
          + "\(here.prefix(7))) does not have, so its code and documents cannot be compared" + fix,
        here
      )
    }
    // Exit status 0: no difference outside Reports/ (the code and documents are the binary's).
    let same =
      git(["diff", "--quiet", commit, here, "--"] + outsideReports, in: directory) != nil
    if same { return (commit, dirty, nil, here) }
    return (
      commit, true,
      "this pipeline binary was built from \(short), but the checkout here is at "
        + "\(here.prefix(7)) with other code or documents" + fix, here
    )
  }

  /// The nearest folder at or above `directory` (the working directory when nil) that holds a
  /// `.git` entry, whether or not git can read it; nil outside any checkout.
  static func enclosingCheckout(_ directory: URL? = nil) -> URL? {
    var folder = (directory ?? URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
      .standardizedFileURL
    while true {
      if FileManager.default.fileExists(atPath: folder.appendingPathComponent(".git").path) {
        return folder
      }
      let parent = folder.deletingLastPathComponent()
      if parent.path == folder.path { return nil }
      folder = parent
    }
  }

  /// The pathspecs of everything that decides results: the whole tree from its top, wherever in
  /// it git runs, except `Reports/` (rendered reports and result bundles, which runs rewrite).
  /// `Scripts/code-version` spells the same rule for the build (GitStateTests pins the two).
  static let outsideReports = [":/", ":(top,exclude)Reports"]

  /// The git commit of the checkout holding `directory` (the working directory when nil) and
  /// whether its tree has local changes outside `Reports/`; the commit is nil outside a git
  /// checkout.
  static func gitState(in directory: URL? = nil) -> (commit: String?, dirty: Bool) {
    guard let commit = git(["rev-parse", "HEAD"], in: directory) else { return (nil, false) }
    // The code and the documents decide results; rendered reports (which every run rewrites)
    // do not, so they do not make a checkout dirty. Untracked files count: a new source file
    // changes the build. The pathspecs name the whole tree from its top, wherever in it the
    // directory lies; a status that cannot be read counts as dirty (clean is a claim).
    guard let status = git(["status", "--porcelain", "--"] + outsideReports, in: directory) else {
      return (commit, true)
    }
    return (commit, !status.isEmpty)
  }

  /// Runs git in `directory` (the working directory when nil); its trimmed standard output, or
  /// nil when git is missing or exits with a non-zero status.
  private static func git(_ arguments: [String], in directory: URL?) -> String? {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["git", "--no-optional-locks"] + arguments
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
}
