import Foundation
import Testing

/// Runs killed at random moments and resumed must end exactly where an uninterrupted run does.
@Suite(
  "Kill torture",
  .enabled(if: TortureSettings.hasMNIST, TortureSettings.noMNIST),
  .timeLimit(.minutes(20))
)
struct KillTortureTests {
  @Test("SIGKILL at seeded random moments, rerun each time: same digests, same report, no debris")
  func killAndResume() throws {
    let fixture = try CLIFixture.shared()
    var generator = SplitMix64(seed: TortureSettings.seed)
    var kills = 0
    var campaigns = 0
    while kills < TortureSettings.kills {
      // A campaign runs one workspace to completion; long tortures need several. Odd campaigns
      // start empty, so kills also land in the download and preprocessing.
      campaigns += 1
      let workspace =
        campaigns % 2 == 0
        ? try fixture.emptyWorkspace("kill") : try fixture.workspace(copying: fixture.base, "kill")
      defer { fixture.discard(workspace) }
      let arguments = CLIFixture.smokeFig2(workspace)
      while kills < TortureSettings.kills {
        let run = try PipelineProcess(arguments)
        // Mostly short lives (the startup and commit paths), sometimes long ones.
        run.sleep(upTo: Double.random(in: 0.05...1.8, using: &generator))
        guard run.send(SIGKILL) else {
          let outcome = try run.wait()
          try #require(outcome.succeeded, "run \(kills + 1) ended by itself but failed: \(outcome)")
          break  // finished before the kill: this campaign is done
        }
        let outcome = try run.wait()
        #expect(outcome.wasSignalled && outcome.status == SIGKILL, "\(outcome)")
        kills += 1
      }
      let final = try PipelineProcess.run(arguments)
      try #require(final.succeeded, "the rerun after \(kills) kills failed: \(final)")
      try expectMatchesReference(workspace, fixture)
    }
    print("kill torture: \(kills) SIGKILLs survived in \(campaigns) campaign(s)")
  }

  @Test("SIGINT stops cleanly with exit 130 and says how to resume")
  func interruptStopsCleanly() throws {
    let fixture = try CLIFixture.shared()
    let workspace = try fixture.workspace(copying: fixture.base, "sigint")
    defer { fixture.discard(workspace) }
    let arguments = CLIFixture.smokeFig2(workspace)
    let run = try PipelineProcess(arguments)
    run.sleep(upTo: 4)
    try #require(run.send(SIGINT), "the run finished before it could be interrupted")
    let outcome = try run.wait(timeout: 60)
    #expect(!outcome.wasSignalled && outcome.status == 130, "\(outcome)")
    // The suggestion is the command as invoked, pasteable: the binary's path and the arguments.
    let suggested = try PipelineBinary.url().path + " " + arguments.joined(separator: " ")
    #expect(outcome.standardError.contains("Resume with: \(suggested)\n"), "\(outcome)")
    #expect(try CacheSnapshot(workspace).temporaryLeftovers.isEmpty)

    let resumed = try PipelineProcess.run(arguments)
    try #require(resumed.succeeded, "\(resumed)")
    #expect((resumed.executedStages ?? 0) < fixture.referenceCache.entries.count + 20)
    try expectMatchesReference(workspace, fixture)
  }
}

/// Checks a finished workspace against the uninterrupted reference run: every output digest,
/// the report's results, nothing left to do, no temporary files.
func expectMatchesReference(
  _ workspace: URL,
  _ fixture: CLIFixture,
  sourceLocation: SourceLocation = #_sourceLocation
) throws {
  let snapshot = try CacheSnapshot(workspace)
  let differences = snapshot.differences(from: fixture.referenceCache)
  #expect(
    differences.isEmpty,
    "digests differ from the uninterrupted run:\n\(differences.joined(separator: "\n"))",
    sourceLocation: sourceLocation
  )
  #expect(
    snapshot.temporaryLeftovers.isEmpty,
    "left behind: \(snapshot.temporaryLeftovers)",
    sourceLocation: sourceLocation
  )
  #expect(
    snapshot.uncommittedEntries.isEmpty,
    "uncommitted entries: \(snapshot.uncommittedEntries)",
    sourceLocation: sourceLocation
  )
  let report = try ReportSnapshot(workspace, report: "fig2-smoke")
  #expect(
    report.hasSameResults(as: fixture.referenceReport),
    "the report's results differ",
    sourceLocation: sourceLocation
  )
  let status = try PipelineProcess.run(
    ["status", "fig2", "--profile", "smoke"] + workspace.dataArguments
  )
  #expect(
    status.standardOutput.contains("nothing to do"),
    "\(status)",
    sourceLocation: sourceLocation
  )
}
