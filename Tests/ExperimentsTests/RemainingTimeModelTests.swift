import Acquisition
import PipelineCore
import TestSupport
import Testing

@testable import Experiments

/// The ETA's cost model, pinned by hand: training grows with the labelled set, other stages are
/// per-kind means, unobserved kinds cost nothing.
struct RemainingTimeModelTests {
  static let cell = Cell(acquisition: .bald, model: .bayesian, repetition: 0)

  static func plan() throws -> ExperimentPlan {
    try ExperimentPlan(
      target: "eta",
      profile: Profile.smoke.applying([try ProfileOverride(parsing: "rounds=10")]),
      cells: [cell],
      resources: ExperimentResources()
    )
  }

  static func paperPlan() throws -> ExperimentPlan {
    try ExperimentPlan(
      target: "eta",
      profile: Profile.paper.applying([try ProfileOverride(parsing: "repetitions=1")]),
      cells: [cell],
      resources: ExperimentResources()
    )
  }

  @Test func earlyTrainingCostIsProportionalToTheLabelledSetPlusOneBatchOfOverhead() throws {
    var model = RemainingTimeModel(plan: try Self.plan())
    #expect(model.remainingSeconds(excluding: []) == nil, "no estimate before any sample")
    let train0 = ExperimentPlan.stageID(Self.cell, round: 0, "train")
    let evaluate0 = ExperimentPlan.stageID(Self.cell, round: 0, "evaluate")
    let score0 = ExperimentPlan.stageID(Self.cell, round: 0, "score")
    model.observe(train0, seconds: 0.5)  // 20 labels: 0.5 / (20 + 20) per image
    model.observe(evaluate0, seconds: 2)
    #expect(
      model.remainingSeconds(excluding: [train0, evaluate0]) == nil,
      "no estimate while scoring, which remains, has no sample"
    )
    model.observe(score0, seconds: 1)
    // Trains of rounds 1...10 (30...120 labels): 0.0125 * (750 + 10 * 20) = 11.875 s;
    // evaluations of rounds 1...10: 20 s; scores of rounds 1...9: 9 s; acquisitions: 0.
    let remaining = try #require(model.remainingSeconds(excluding: [train0, evaluate0, score0]))
    #expect(isClose(remaining, 40.875))
  }

  @Test func spreadTrainingSamplesGiveALeastSquaresLine() throws {
    var model = RemainingTimeModel(plan: try Self.paperPlan())
    // The measured paper-profile trainings: 20, 520 and 1020 labels.
    for (round, seconds) in [(0, 0.53), (50, 7.15), (100, 14.5)] {
      model.observe(ExperimentPlan.stageID(Self.cell, round: round, "train"), seconds: seconds)
    }
    // Everything but the training of round 75 is done.
    let done = Set(
      try Self.paperPlan().graph.nodes.map(\.id).filter {
        $0 != ExperimentPlan.stageID(Self.cell, round: 75, "train")
      }
    )
    // Only round 75 (770 labels) remains. Least squares by hand: mean N 520, mean t 7.3933,
    // Sxx 500000, Sxy 6985, so b = 0.01397 and a = 0.12893: 0.12893 + 0.01397 * 770 = 10.886 s.
    let remaining = try #require(model.remainingSeconds(excluding: done))
    #expect(isClose(remaining, 10.886, absolute: 0.001))
  }
}
