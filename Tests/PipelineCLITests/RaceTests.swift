import Foundation
import Testing

/// Several `reproduce` processes on one target and data directory: all finish, with the
/// outputs of a single run, and every stage is computed by exactly one of them.
@Suite(
  "Concurrent runs",
  .enabled(if: TortureSettings.hasMNIST, TortureSettings.noMNIST),
  .timeLimit(.minutes(15))
)
struct RaceTests {
  @Test("Concurrent reproduce processes share the work", arguments: [2, 3])
  func concurrentRuns(processes: Int) throws {
    let fixture = try CLIFixture.shared()
    for _ in 0..<TortureSettings.raceRepeats {
      let workspace = try fixture.workspace(copying: fixture.base, "race\(processes)")
      defer { fixture.discard(workspace) }
      let before = try CacheSnapshot(workspace)
      let runs = try (0..<processes).map { _ in
        try PipelineProcess(CLIFixture.smokeFig2(workspace))
      }
      let outcomes = try runs.map { try $0.wait() }
      for outcome in outcomes { #expect(outcome.succeeded, "\(outcome)") }
      try #require(outcomes.allSatisfy { $0.succeeded })
      try expectMatchesReference(workspace, fixture)

      // Each new entry was committed by one of the racers, and their executed counts add up to
      // the number of new entries: no stage was computed twice.
      let after = try CacheSnapshot(workspace)
      let newEntries = after.entries.filter { before.entries[$0.key] == nil }
      let racers = Set(outcomes.map(\.processID))
      #expect(newEntries.values.allSatisfy { racers.contains($0.processID) })
      let executed = outcomes.compactMap(\.executedStages)
      try #require(executed.count == processes, "every racer prints its executed count")
      #expect(
        executed.reduce(0, +) == newEntries.count,
        "executed per process \(executed) should add up to \(newEntries.count) new entries"
      )
      #expect(after.quarantined.isEmpty, "\(after.quarantined)")
      print("race of \(processes): executed per process \(executed), \(newEntries.count) entries")

      // Every racer rendered the same report.
      let reports = outcomes.map(\.standardOutput)
      #expect(Set(reports).count == 1, "\(reports)")
    }
  }
}
