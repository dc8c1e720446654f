import Foundation
import Synchronization
import TestSupport

/// The shared fixture's folder, removed at process exit.
private let fixtureRoot = Mutex<String?>(nil)

/// The data every scenario starts from, built once per test process: a data directory with
/// MNIST fetched and preprocessed (`base`), and one uninterrupted `reproduce fig2 --profile
/// smoke` from it (`reference`), the result every interrupted, corrupted or raced run must equal.
struct CLIFixture: Sendable {
  /// The folder holding every scenario's copy.
  let root: URL
  /// A workspace (`Data/`) with only `fetch mnist` committed.
  let base: URL
  /// A workspace (`Data/`, `Reports/`) after one uninterrupted smoke run of fig2.
  let reference: URL
  /// The reference run's cache.
  let referenceCache: CacheSnapshot
  /// The reference run's rendered report.
  let referenceReport: ReportSnapshot

  /// The smoke arguments of `reproduce fig2` for a workspace.
  static func smokeFig2(_ workspace: URL, _ extra: [String] = []) -> [String] {
    ["reproduce", "fig2", "--profile", "smoke"] + workspace.renderArguments + extra
  }

  private static let built: Result<CLIFixture, any Error> = Result { try build() }

  /// The shared fixture (built on first use; later callers wait for it).
  static func shared() throws -> CLIFixture { try built.get() }

  private static func build() throws -> CLIFixture {
    removeLeftoversOfEndedProcesses()
    let root = try TestSupport.temporaryDirectory("dbal-cli")
    // The fixture holds two copies of MNIST and the reference run (~140 MB): remove it when
    // this test process exits; a process that was killed is swept by the next one.
    fixtureRoot.withLock { $0 = root.path }
    atexit {
      if let path = fixtureRoot.withLock({ $0 }) {
        try? FileManager.default.removeItem(atPath: path)
      }
    }
    let base = root.appendingPathComponent("base")
    let fetched = try PipelineProcess.run(["fetch", "mnist"] + base.dataArguments)
    guard fetched.succeeded else {
      throw HarnessError.commandFailed("pipeline fetch mnist", fetched)
    }
    let reference = root.appendingPathComponent("reference")
    try copyDirectory(base, to: reference)
    let run = try PipelineProcess.run(smokeFig2(reference))
    guard run.succeeded else { throw HarnessError.commandFailed("reference smoke run", run) }
    return CLIFixture(
      root: root,
      base: base,
      reference: reference,
      referenceCache: try CacheSnapshot(reference),
      referenceReport: try ReportSnapshot(reference, report: "fig2-smoke")
    )
  }

  /// Removes `dbal-cli-PID-*` folders of test processes that no longer run.
  private static func removeLeftoversOfEndedProcesses() {
    let temporary = FileManager.default.temporaryDirectory
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: temporary.path)) ?? []
    for entry in entries where entry.hasPrefix("dbal-cli-") {
      let pid = entry.dropFirst("dbal-cli-".count).prefix { $0.isNumber }
      guard let pid = pid_t(pid), pid > 0, kill(pid, 0) != 0, errno == ESRCH else { continue }
      try? FileManager.default.removeItem(at: temporary.appendingPathComponent(entry))
    }
  }

  /// A fresh copy of `source` (base or reference) for one scenario.
  func workspace(copying source: URL, _ label: String) throws -> URL {
    let destination = root.appendingPathComponent("\(label)-\(UUID().uuidString.prefix(8))")
    try Self.copyDirectory(source, to: destination)
    return destination
  }

  /// A copy of `base` after a smoke run of the BALD cells only: half of fig2, whose other cells
  /// have not started (they share repetition 0's round-0 model with the BALD cells).
  func halfRun(_ label: String) throws -> URL {
    let workspace = try self.workspace(copying: base, label)
    let run = try PipelineProcess.run(Self.smokeFig2(workspace, ["--cells", "bald.*"]))
    guard run.succeeded else {
      discard(workspace)
      throw HarnessError.commandFailed("smoke run of bald.*", run)
    }
    return workspace
  }

  /// The cache key of repetition 0's round-0 model in the reference run (the model every cell
  /// of the repetition starts from); nil if the reference run has none.
  var roundZeroModelKey: String? {
    referenceCache.entries.first { $0.value.stageID.hasSuffix(".r0/round-000/train") }?.key
  }

  /// Removes a scenario's workspace (each holds a copy of MNIST: ~56 MB).
  func discard(_ workspace: URL) {
    try? FileManager.default.removeItem(at: workspace)
  }

  /// An empty workspace (nothing fetched).
  func emptyWorkspace(_ label: String) throws -> URL {
    let destination = root.appendingPathComponent("\(label)-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: destination, withIntermediateDirectories: true)
    return destination
  }

  /// `cp -a`: keeps the files' bytes and metadata exactly (a Foundation copy would too, but
  /// this is what a user would do to back up a data directory).
  static func copyDirectory(_ source: URL, to destination: URL) throws {
    let copy = Process()
    copy.executableURL = URL(fileURLWithPath: "/bin/cp")
    copy.arguments = ["-a", source.path, destination.path]
    try copy.run()
    copy.waitUntilExit()
    guard copy.terminationStatus == 0 else {
      throw HarnessError.binaryUnavailable("cp -a \(source.path) \(destination.path) failed")
    }
  }
}

extension URL {
  /// `Data/` of a scenario workspace.
  var dataDirectory: URL { appendingPathComponent("Data") }
  /// `Reports/` of a scenario workspace.
  var reportsDirectory: URL { appendingPathComponent("Reports") }
  /// `--data-dir …` for a scenario workspace.
  var dataArguments: [String] { ["--data-dir", dataDirectory.path] }
  /// `--data-dir … --reports-dir …` for a scenario workspace, for the commands that render.
  var renderArguments: [String] { dataArguments + ["--reports-dir", reportsDirectory.path] }
}
