import ArgumentParser
import Foundation
import Reports
import TestSupport
import Testing

@testable import PipelineCLI

/// The provenance a run records is written as the run goes (an interrupted run records what it
/// computed) and merged over interrupts: the report after the resumed run names every round
/// each invocation executed, once, the wall time of both, and the commit the tool was built
/// from (the checkout's: the tests build it there).
@Suite(
  "Provenance over interrupts",
  .enabled(if: TortureSettings.hasMNIST, TortureSettings.noMNIST),
  .timeLimit(.minutes(10))
)
struct ProvenanceTests {
  @Test("An interrupted, then resumed run: every executed round counted once, both wall times")
  func interruptedThenResumed() throws {
    let fixture = try CLIFixture.shared()
    let workspace = try fixture.workspace(copying: fixture.base, "provenance")
    defer { fixture.discard(workspace) }
    let arguments = CLIFixture.smokeFig2(workspace)
    let head = Self.repositoryCommit()

    // 1. Interrupt once a few rounds of two cells are evaluated (the shared round 0 included).
    let first = try PipelineProcess(arguments)
    let firstStart = Date()
    let deadline = firstStart.addingTimeInterval(240)
    while first.isRunning, Self.evaluations(workspace).count < 4, Date() < deadline {
      usleep(20_000)
    }
    try #require(first.send(SIGINT), "the run finished before it could be interrupted")
    let stopped = try first.wait(timeout: 120)
    let firstWall = Date().timeIntervalSince(firstStart)
    try #require(!stopped.wasSignalled && stopped.status == 130, "\(stopped)")

    // The interrupted run recorded what it computed.
    let afterFirst = try #require(
      RecordedRun.load(workspace.dataDirectory, "fig2.smoke"),
      "an interrupted run records its provenance"
    )
    let firstEvaluations = Self.evaluations(workspace)
    let executedFirst = afterFirst.executedRounds.values.map(\.count).reduce(0, +)
    #expect(executedFirst == firstEvaluations.count, "\(afterFirst.executedRounds)")
    #expect(executedFirst >= 4)
    #expect(afterFirst.wallSeconds > 0 && afterFirst.wallSeconds <= firstWall + 1)
    #expect(afterFirst.gitCommit == head)

    // A report rendered now says so, and how to continue.
    let partial = try PipelineProcess.run(
      ["report", "fig2", "--profile", "smoke"] + workspace.renderArguments
    )
    try #require(partial.succeeded, "\(partial)")
    let partialReport = try ReportSnapshot(workspace, report: "fig2-smoke")
    #expect(try Self.totals(partialReport.markdown).executed == executedFirst)
    let resume = try #require(
      partialReport.markdown.firstMatch(of: /Re-run `([^`]+)` to continue/)?.output.1,
      "the partial report says how to continue"
    )
    expectParses(String(resume), in: "the partial report")
    // The whole target in this data directory (never `--cells`, whatever was recorded).
    #expect(
      try ShellWords.split(String(resume))
        == ["pipeline", "reproduce", "fig2", "--profile", "smoke"] + workspace.dataArguments
    )

    // 2. Resume to the end.
    let secondStart = Date()
    let resumed = try PipelineProcess.run(arguments)
    let secondWall = Date().timeIntervalSince(secondStart)
    try #require(resumed.succeeded, "\(resumed)")
    try expectMatchesReference(workspace, fixture)

    let record = try #require(RecordedRun.load(workspace.dataDirectory, "fig2.smoke"))
    let evaluations = Self.evaluations(workspace)
    for (cell, rounds) in record.executedRounds {
      #expect(Set(rounds).count == rounds.count, "\(cell) lists a round twice: \(rounds)")
      let before = Set(afterFirst.executedRounds[cell] ?? [])
      #expect(before.isSubset(of: rounds), "\(cell) lost the first run's rounds")
    }
    // Each evaluation in the cache was executed by exactly one of the two runs, and counted
    // once: the shared round 0 in one cell only.
    let executed = record.executedRounds.values.map(\.count).reduce(0, +)
    #expect(executed == evaluations.count, "\(record.executedRounds)")
    #expect(
      evaluations.filter { $0.processID == resumed.processID }.count == executed - executedFirst
    )
    let roundZero = record.executedRounds.filter { $0.value.contains(0) }.count
    #expect(roundZero == evaluations.filter { $0.stageID.contains("/round-000/") }.count)
    // Smoke has one repetition: one round-0 evaluation with MC passes that the Bayesian cells
    // share, and one dropout-off evaluation that the deterministic cells share.
    #expect(roundZero == 2, "\(record.executedRounds)")
    // Wall time: both runs'.
    let secondSeconds = record.wallSeconds - afterFirst.wallSeconds
    #expect(secondSeconds > 0 && secondSeconds <= secondWall + 1, "\(record.wallSeconds)")
    #expect(record.gitCommit == head)

    // The report rendered by the resumed run.
    let report = try ReportSnapshot(workspace, report: "fig2-smoke")
    let totals = try Self.totals(report.markdown)
    #expect(totals.executed == executed)
    let cells = record.executedRounds.count
    let rounds = try #require(evaluations.map(\.round).max()) + 1
    #expect(totals.cached + totals.executed == cells * rounds)
    #expect(!report.markdown.contains("| Total wall time | not recorded"))
    if let head {
      #expect(report.markdown.contains("| Code version | `\(head)`"))
    }

    // Compute time and stage counts: every cache entry once, the shared round 0 included.
    let provenance = try Self.provenance(workspace)
    let counted = provenance.cells.map(\.computeSeconds).reduce(0, +)
    let stages = Self.cellStageDurations(workspace)
    #expect(abs(counted - stages.reduce(0, +)) < 1e-6, "\(counted) vs \(stages.reduce(0, +))")
    let countedStages = provenance.cells.flatMap(\.computedBy).compactMap { line in
      line.firstMatch(of: /: (\d+) stages$/).flatMap { Int($0.output.1) }
    }.reduce(0, +)
    #expect(countedStages == stages.count)
    #expect(record.wallSeconds <= firstWall + secondWall + 1)
  }

  // MARK: - Helpers

  /// A committed evaluation in a workspace's cache.
  struct Evaluation {
    var stageID: String
    var round: Int
    var processID: Int32
  }

  /// The committed evaluate entries (one per cache key).
  static func evaluations(_ workspace: URL) -> [Evaluation] {
    guard let cache = try? CacheSnapshot(workspace) else { return [] }
    return cache.entries.values.compactMap { entry in
      guard let match = entry.stageID.firstMatch(of: /round-(\d+)\/evaluate$/) else { return nil }
      return Evaluation(
        stageID: entry.stageID,
        round: Int(match.output.1)!,
        processID: entry.processID
      )
    }
  }

  /// The recorded durations of every committed entry of a cell's stages, once per key.
  static func cellStageDurations(_ workspace: URL) -> [Double] {
    let entries = workspace.dataDirectory.appendingPathComponent("cache/entries")
    var durations: [Double] = []
    let walker = FileManager.default.enumerator(atPath: entries.path)
    while let relative = walker?.nextObject() as? String {
      guard relative.hasSuffix("/manifest.json"),
        let bytes = FileManager.default.contents(
          atPath: entries.appendingPathComponent(relative).path
        ),
        let json = try? JSONSerialization.jsonObject(with: bytes) as? [String: Any],
        let stage = json["stageID"] as? String, stage.hasPrefix("cells/"),
        let seconds = json["durationSeconds"] as? Double
      else { continue }
      durations.append(seconds)
    }
    return durations
  }

  /// The report's provenance as the tool builds it, from the workspace's cache and record.
  static func provenance(_ workspace: URL) throws -> Provenance {
    let options = try DataOptions.parse(
      workspace.dataArguments + [
        "--pipelines-dir", TestSupport.repositoryRoot.appendingPathComponent("Pipelines").path,
      ]
    )
    let profile = try ProfileOptions.parse(["--profile", "smoke"])
    let tool = try Workspace(target: "fig2", options: options, profile: profile, progress: false)
    let snapshot = try tool.snapshot()
    let recorded = RecordedRun.load(options.dataDirectory, tool.recordName)
    return tool.provenance(
      statuses: snapshot.statuses,
      recorded: recorded,
      continueCommand: tool.continueCommand(recorded: recorded)
    )
  }

  /// The Total row of the report's "Stages per cell" table.
  static func totals(_ markdown: String) throws -> (cached: Int, executed: Int) {
    let row = try #require(
      markdown.firstMatch(of: /\| \*\*Total\*\* \| \*\*(\d+)\*\* \| \*\*(\d+)\*\* \|/),
      "the report has a Total row"
    )
    return (Int(row.output.1)!, Int(row.output.2)!)
  }

  /// The commit of the checkout the tests run in (the tool runs there), nil outside git.
  static func repositoryCommit() -> String? {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["git", "rev-parse", "HEAD"]
    process.currentDirectoryURL = TestSupport.repositoryRoot
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = FileHandle.nullDevice
    guard (try? process.run()) != nil else { return nil }
    let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    return process.terminationStatus == 0
      ? output.trimmingCharacters(in: .whitespacesAndNewlines) : nil
  }
}
