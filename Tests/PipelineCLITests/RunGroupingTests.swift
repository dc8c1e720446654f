import Foundation
import PipelineCore
import Testing

@testable import PipelineCLI

/// Which recorded runs `gc --keep-latest` forgets: only computed runs of other protocols than
/// the newest complete one, compared by the user's parameters.
struct RunGroupingTests {
  static func record(
    _ name: String,
    minutesAgo: Double,
    complete: Bool = true,
    origin: String = "computed",
    profile: String = "paper",
    parameters: [String: String] = ["seed": "0", "rounds": "100"]
  ) -> RunRecord {
    RunRecord(
      name: name,
      toolVersion: "test",
      finishedAt: Date(timeIntervalSinceNow: -60 * minutesAgo),
      isComplete: complete,
      stages: [:],
      labels: ["target": "fig2", "profile": profile, "origin": origin],
      parameters: parameters
    )
  }

  static func forgotten(_ records: [RunRecord]) -> [String] {
    RunGrouping.superseded(records).map(\.name).sorted()
  }

  @Test func olderProtocolsAreForgottenButPartsOfTheNewestAreKept() {
    let records = [
      Self.record("seed-1", minutesAgo: 60, parameters: ["seed": "1", "rounds": "100"]),
      Self.record("cells-a", minutesAgo: 30),
      Self.record("cells-b", minutesAgo: 10),
    ]
    #expect(Self.forgotten(records) == ["seed-1"])
  }

  @Test func anInterruptedNewProtocolDoesNotDisplaceAFinishedOne() {
    let records = [
      Self.record("paper", minutesAgo: 600),
      Self.record("seed-1", minutesAgo: 1, complete: false, parameters: ["seed": "1"]),
    ]
    #expect(Self.forgotten(records) == ["seed-1"])
    // Without any complete run nothing of that target and profile is forgotten.
    #expect(Self.forgotten([records[1]]).isEmpty)
  }

  @Test func importsUnlabelledRecordsAndOtherProfilesAreKept() {
    let unlabelled = RunRecord(
      name: "old",
      toolVersion: "0.1.0",
      finishedAt: Date(timeIntervalSinceNow: -9000),
      isComplete: true,
      stages: [:]
    )
    let records = [
      Self.record("import", minutesAgo: 100, origin: "imported", parameters: ["seed": "7"]),
      unlabelled,
      Self.record("smoke", minutesAgo: 50, profile: "smoke", parameters: ["seed": "3"]),
      Self.record("paper", minutesAgo: 5),
    ]
    #expect(Self.forgotten(records).isEmpty)
  }

  @Test func aParameterAddedLaterDoesNotMakeAnotherProtocol() {
    let old = Self.record("old", minutesAgo: 100, parameters: ["seed": "0"])
    let new = Self.record(
      "new",
      minutesAgo: 1,
      parameters: ["seed": "0", "ensemble-size": "5"]
    )
    #expect(RunGrouping.sameProtocol(old, new) && RunGrouping.sameProtocol(new, old))
    #expect(Self.forgotten([old, new]).isEmpty)
    let other = Self.record(
      "other",
      minutesAgo: 2,
      parameters: ["seed": "0", "ensemble-size": "3"]
    )
    #expect(!RunGrouping.sameProtocol(other, new))
  }
}
