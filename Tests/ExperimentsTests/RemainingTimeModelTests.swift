import Acquisition
import Foundation
import PipelineCore
import TestSupport
import Testing

@testable import Experiments

/// The ETA's cost model, pinned by hand: training grows with the labelled set, other stages are
/// per-kind means, unobserved kinds cost nothing.
struct RemainingTimeModelTests {
  static let cell = Cell(acquisition: .bald, model: .mcDropout, repetition: 0)

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
    // evaluations of rounds 1...10: 20 s; calibrations of rounds 0...10, which make the same
    // predictions, as evaluations: 22 s; scores of rounds 1...9: 9 s; acquisitions: 0.
    let remaining = try #require(model.remainingSeconds(excluding: [train0, evaluate0, score0]))
    #expect(isClose(remaining, 62.875))
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

/// A one-round smoke plan with one `acquisition` cell per model, and its time model after each
/// cell's round-0 evaluation took the given seconds.
private func evaluationsObserved(
  _ models: [UncertaintySource],
  acquisition: AcquisitionFunction,
  seconds: [Double]
) throws -> (cells: [Cell], plan: ExperimentPlan, model: RemainingTimeModel) {
  let cells = models.map { Cell(acquisition: acquisition, model: $0, repetition: 0) }
  let plan = try ExperimentPlan(
    target: "eta",
    profile: Profile.smoke.applying([try ProfileOverride(parsing: "rounds=1")]),
    cells: cells,
    resources: ExperimentResources()
  )
  var model = RemainingTimeModel(plan: plan)
  for (cell, seconds) in zip(cells, seconds) {
    model.observe(ExperimentPlan.stageID(cell, round: 0, "evaluate"), seconds: seconds)
  }
  return (cells, plan, model)
}

/// The seconds `model` predicts when only stage `left` of `plan` remains.
private func remaining(
  _ model: RemainingTimeModel,
  _ plan: ExperimentPlan,
  only left: StageID
)
  -> Double?
{
  model.remainingSeconds(excluding: Set(plan.graph.nodes.map(\.id).filter { $0 != left }))
}

/// Each uncertainty source's evaluations and scorings are estimated from its own samples: an
/// ensemble's cost M passes, MC dropout's T.
@Test func samplesOfOneSourceDoNotEstimateAnother() throws {
  let (cells, plan, model) = try evaluationsObserved(
    [.mcDropout, .deepEnsemble],
    acquisition: .bald,
    seconds: [2, 10]
  )
  for (cell, seconds) in zip(cells, [2.0, 10.0]) {
    let left = ExperimentPlan.stageID(cell, round: 1, "evaluate")
    #expect(remaining(model, plan, only: left) == seconds, "\(cell)")
  }
}

/// A deterministic cell is evaluated with one dropout-off pass but calibrated with the T
/// passes of MC dropout: its calibrations are estimated from MC-dropout evaluations, its
/// evaluations from its own.
@Test func deterministicCalibrationsCostWhatMCDropoutEvaluationsCost() throws {
  let (cells, plan, model) = try evaluationsObserved(
    [.mcDropout, .deterministic],
    acquisition: .maxEntropy,
    seconds: [15, 1]
  )
  for (kind, seconds) in [("evaluate", 1.0), ("calibrate", 15.0)] {
    let left = ExperimentPlan.stageID(cells[1], round: 1, kind)
    #expect(remaining(model, plan, only: left) == seconds, "\(kind)")
  }
}

/// The ETA measured against a real paper-profile run: the stage durations recorded in the
/// committed bundle of fig2's `bald.bayesian.r0` (101 rounds on a 2-core AVX-512 machine,
/// computed at low priority beside other work), replayed in execution order. The target: from
/// 5% of the run on, the predicted remaining time is within 25% of the true remaining time.
///
/// No model can foresee another job taking the machine: that run has stalls (stages that took
/// 10x their kind's median or more, such as a 1480 s evaluation at round 9, 27% of the whole
/// run). A point of the run is judged only when no stall lies ahead of it; the stalls already
/// observed stay in the model's samples, so its robustness to them is tested.
struct RemainingTimeOnAPaperRunTests {
  static let bundle = TestSupport.repositoryRoot
    .appendingPathComponent("Reports/fig2/paper/bald.bayesian.r0.h5")

  @Test(
    "From 5% of a paper-profile cell on, the ETA is within 25% of the true remaining time",
    .enabled(if: FileManager.default.fileExists(atPath: bundle.path), "no committed bundle")
  )
  func etaIsWithinAQuarterFromFivePercentOn() throws {
    let recorded = try ResultBundle(contentsOf: Self.bundle)
    var durations: [StageID: Double] = [:]
    for entry in recorded.entries {
      durations[entry.manifest.stageID] = entry.manifest.durationSeconds
    }
    let plan = try RemainingTimeModelTests.paperPlan()
    // The runner's order with one job: a cell's rounds one after the other.
    let order = try plan.graph.topologicalOrder().sorted {
      ($0.round ?? -1, Self.step($0)) < ($1.round ?? -1, Self.step($1))
    }
    let timed = order.filter { durations[$0] != nil }
    #expect(timed.count >= 400, "the bundle holds the whole cell: \(timed.count) stages")
    let total = timed.reduce(0) { $0 + durations[$1]! }
    let stalls = Self.stalls(timed, durations)
    #expect(!stalls.isEmpty && stalls.count < 10, "the recorded run's stalls: \(stalls)")
    var model = RemainingTimeModel(plan: plan)
    var done: Set<StageID> = Set(order.filter { durations[$0] == nil })
    var elapsed = 0.0
    var judged = 0
    var worst = (fraction: 0.0, error: 0.0)
    for (index, id) in timed.enumerated() {
      model.observe(id, seconds: durations[id]!)
      done.insert(id)
      elapsed += durations[id]!
      guard elapsed >= 0.05 * total, elapsed < 0.95 * total,
        !timed[(index + 1)...].contains(where: stalls.contains)
      else { continue }
      let truth = total - elapsed
      let predicted = try #require(model.remainingSeconds(excluding: done), "at \(id)")
      let error = abs(predicted - truth) / truth
      if error > worst.error { worst = (elapsed / total, error) }
      judged += 1
    }
    #expect(judged > 200, "most of the run is judged: \(judged) points")
    #expect(
      worst.error <= 0.25,
      "worst relative error \(worst.error) at \(worst.fraction) of \(total) s"
    )
  }

  /// The position of a stage kind within a round.
  static func step(_ id: StageID) -> Int {
    ["train", "evaluate", "score", "acquire"].firstIndex(of: id.kind) ?? -1
  }

  /// The stages that took 10x their kind's median (per image of the labelled set for
  /// training, whose cost grows with it) or more.
  static func stalls(_ ids: [StageID], _ durations: [StageID: Double]) -> Set<StageID> {
    func cost(_ id: StageID) -> Double {
      id.kind == "train" ? durations[id]! / Double(20 + 10 * (id.round ?? 0) + 20) : durations[id]!
    }
    var byKind: [String: [Double]] = [:]
    for id in ids { byKind[id.kind, default: []].append(cost(id)) }
    let medians = byKind.mapValues { RemainingTimeModel.median($0)! }
    return Set(ids.filter { cost($0) >= 10 * medians[$0.kind]! })
  }
}

extension StageID {
  /// The last path component: `train`, `evaluate`, ...
  fileprivate var kind: String { rawValue.split(separator: "/").last.map(String.init) ?? "" }
  /// The round of a `cells/<cell>/round-NNN/<kind>` stage.
  fileprivate var round: Int? {
    rawValue.split(separator: "/").first { $0.hasPrefix("round-") }
      .flatMap { Int($0.dropFirst("round-".count)) }
  }
}
