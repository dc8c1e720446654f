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

  @Test("A --set run keeps the other run's entries and report, through gc")
  func overridesKeepTheirOwnRecordsAndReports() throws {
    let fixture = try CLIFixture.shared()
    let workspace = try fixture.workspace(copying: fixture.reference, "seed")
    defer { fixture.discard(workspace) }
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
    let cache = try CacheSnapshot(workspace)
    for (key, entry) in fixture.referenceCache.entries {
      #expect(cache.entries[key]?.outputs == entry.outputs, "kept: \(entry.stageID)")
    }
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
    #expect(!smoke.standardOutput.contains(" -> "), "an override set is its own protocol")
  }
}
