import Foundation
import Testing

/// Maintenance never removes live or recorded work, and runs of other protocols never
/// overwrite each other's reports or records.
@Suite(
  "Maintenance and protocols",
  .enabled(if: TortureSettings.hasMNIST, TortureSettings.noMNIST),
  .timeLimit(.minutes(10))
)
struct MaintenanceTests {
  @Test("gc waits for a running reproduce and removes nothing it uses")
  func gcWaitsForRunningWork() throws {
    let fixture = try CLIFixture.shared()
    let workspace = try fixture.workspace(copying: fixture.base, "gc-live")
    defer { fixture.discard(workspace) }
    let run = try PipelineProcess(CLIFixture.smokeFig2(workspace))
    run.sleep(upTo: 1.5)
    let gc = try PipelineProcess.run(["gc"] + workspace.dataArguments)
    let outcome = try run.wait()
    try #require(outcome.succeeded, "\(outcome)")
    try #require(gc.succeeded, "\(gc)")
    #expect(gc.standardError.contains("waiting for the pipeline processes"), "\(gc)")
    try expectMatchesReference(workspace, fixture)
  }

  @Test("A --set run keeps the other run's entries and report through gc, until it is forgotten")
  func overridesKeepTheirOwnRecordsAndReports() throws {
    let fixture = try CLIFixture.shared()
    let workspace = try fixture.workspace(copying: fixture.reference, "seed")
    defer { fixture.discard(workspace) }
    // status speaks in the user's parameters, not in stage seeds or float encodings.
    let before = try PipelineProcess.run(
      ["status", "fig2", "--profile", "smoke", "--set", "seed=1"] + workspace.dataArguments
    )
    try #require(before.succeeded, "\(before)")
    #expect(before.standardOutput.contains("no earlier run with these parameters"), "\(before)")
    #expect(before.standardOutput.contains("\n  seed: 0 -> 1\n"), "\(before.standardOutput)")
    #expect(!before.standardOutput.contains("f64:"), "\(before.standardOutput)")
    let other = try PipelineProcess.run(CLIFixture.smokeFig2(workspace, ["--set", "seed=1"]))
    try #require(other.succeeded, "\(other)")
    let reports = try FileManager.default.contentsOfDirectory(
      atPath: workspace.reportsDirectory.path
    ).filter { $0.hasSuffix(".md") }.sorted()
    #expect(reports.count == 2 && reports.contains("fig2-smoke.md"), "\(reports)")
    #expect(reports.contains { $0.hasPrefix("fig2-smoke-") }, "the seed=1 report has its own name")
    #expect(other.standardOutput.contains("fig2-smoke-"), "the CLI says where it wrote")
    let gc = try PipelineProcess.run(["gc"] + workspace.dataArguments)
    try #require(gc.succeeded, "\(gc)")
    #expect(gc.standardOutput.contains("nothing to remove"), "\(gc.standardOutput)")
    let cache = try CacheSnapshot(workspace)
    for (key, entry) in fixture.referenceCache.entries {
      #expect(cache.entries[key]?.outputs == entry.outputs, "kept: \(entry.stageID)")
    }

    // The dry run names each recorded run in words, with the name to forget it by.
    let dry = try PipelineProcess.run(
      ["gc", "--keep-latest", "--dry-run"] + workspace.dataArguments
    )
    try #require(dry.succeeded, "\(dry)")
    let digest = try #require(
      reports.first { $0.hasPrefix("fig2-smoke-") }?.dropFirst("fig2-smoke-".count).prefix(8)
    )
    #expect(
      dry.standardOutput.contains(
        "  fig2.smoke.\(digest): `pipeline reproduce fig2 --profile smoke --set seed=1`"
      ),
      "\(dry.standardOutput)"
    )
    #expect(
      dry.standardOutput.contains(
        "would forget fig2.smoke: `pipeline reproduce fig2 --profile smoke`"
      ),
      "\(dry.standardOutput)"
    )
    #expect(try CacheSnapshot(workspace).entries.count == cache.entries.count, "a dry run")

    // An unknown name is refused before anything is removed.
    let unknown = try PipelineProcess.run(
      ["gc", "--forget", "fig2.paper"] + workspace.dataArguments
    )
    #expect(!unknown.succeeded)
    #expect(unknown.standardError.contains("no recorded run is named \"fig2.paper\""), "\(unknown)")
    #expect(try CacheSnapshot(workspace).entries.count == cache.entries.count)

    // Forgetting the seed-0 run removes what only it used; the seed-1 run stays complete.
    let forgot = try PipelineProcess.run(
      ["gc", "--forget", "fig2.smoke"] + workspace.dataArguments
    )
    try #require(forgot.succeeded, "\(forgot)")
    #expect(forgot.standardOutput.contains("forgot fig2.smoke:"), "\(forgot.standardOutput)")
    let after = try CacheSnapshot(workspace)
    #expect(after.entries.count < cache.entries.count)
    let rerun = try PipelineProcess.run(CLIFixture.smokeFig2(workspace, ["--set", "seed=1"]))
    try #require(rerun.succeeded, "\(rerun)")
    #expect(rerun.executedStages == 0, "\(rerun)")
  }

  @Test("A partial report of a --cells run says how to continue the whole target")
  func partialReportsContinueTheWholeTarget() throws {
    let fixture = try CLIFixture.shared()
    let workspace = try fixture.halfRun("cells")
    defer { fixture.discard(workspace) }
    let report = try ReportSnapshot(workspace, report: "fig2-smoke").markdown
    let resume = try #require(report.firstMatch(of: /Re-run `([^`]+)` to continue/)?.output.1)
    #expect(
      try ShellWords.split(String(resume))
        == ["pipeline", "reproduce", "fig2", "--profile", "smoke"] + workspace.dataArguments,
      "\(resume)"
    )
  }

  @Test("status compares like with like: the paper profile is not compared with a smoke run")
  func statusComparesLikeWithLike() throws {
    let fixture = try CLIFixture.shared()
    let status = try PipelineProcess.run(["status", "fig2"] + fixture.reference.dataArguments)
    try #require(status.succeeded, "\(status)")
    #expect(!status.standardOutput.contains(" -> "), "\(status.standardOutput)")
    let smoke = try PipelineProcess.run(
      ["status", "fig2", "--profile", "smoke", "--set", "epochs=3"]
        + fixture.reference.dataArguments
    )
    try #require(smoke.succeeded, "\(smoke)")
    // An override set is its own protocol: compared in parameters only, never stage by stage.
    #expect(smoke.standardOutput.contains("\n  epochs: 2 -> 3\n"), "\(smoke.standardOutput)")
    #expect(!smoke.standardOutput.contains("e.g. "), "\(smoke.standardOutput)")
  }
}
