import Acquisition
import Foundation
import NeuralEngine
import Notebook
import PipelineCore
import Reports
import TestSupport
import Testing

@testable import Experiments

/// The faithful-protocol choices: deterministic Variation Ratios, the weight-decay grid, the
/// stratified test subset, parameters that enter cache keys, and errors for bad values.
struct ProtocolFidelityTests {
  /// Three hand-checked probability vectors (one pass): max p = 0.7, 0.8, 0.6.
  static let onePass = MCProbabilities(
    passes: 1,
    points: 3,
    classes: 3,
    values: [0.7, 0.2, 0.1, 0.1, 0.8, 0.1, 0.6, 0.3, 0.1]
  )

  @Test func deterministicVariationRatiosIsOneMinusTheMaximumProbability() {
    let parameters = ScoreStage.Parameters(
      function: .varRatios,
      model: .deterministic,
      mcSamples: 100,
      poolSubset: 2000,
      singlePassVariationRatios: .leastConfidence
    )
    let scores = parameters.effectiveFunction.scores(Self.onePass)
    #expect(firstMismatch(scores, [0.3, 0.2, 0.4]) == nil, "\(scores)")
    #expect(parameters.mcSamples == 1)
  }

  @Test func modeCountVariationRatiosOfOnePassIsZeroEverywhere() {
    let parameters = ScoreStage.Parameters(
      function: .varRatios,
      model: .deterministic,
      mcSamples: 100,
      poolSubset: 2000,
      singlePassVariationRatios: .modeCount
    )
    #expect(parameters.effectiveFunction.scores(Self.onePass) == [0, 0, 0])
    #expect(AcquisitionFunction.bald.scores(Self.onePass) == [0, 0, 0], "BALD of one pass")
  }

  @Test func bayesianVariationRatiosIgnoresTheSinglePassChoice() {
    let bayesian = ScoreStage.Parameters(
      function: .varRatios,
      model: .mcDropout,
      mcSamples: 100,
      poolSubset: 2000,
      singlePassVariationRatios: .leastConfidence
    )
    #expect(bayesian.singlePassVariationRatios == nil)
    #expect(bayesian.effectiveFunction == .varRatios)
  }

  @Test func validationScoreIsAccuracyAndMeanCrossEntropy() {
    // Labels 0, 1, 2: the first two are right, the third is not (argmax 0).
    let score = ValidationScore(
      probabilities: Self.onePass.values,
      labels: [0, 1, 2],
      classes: 3
    )
    #expect(isClose(score.accuracy, 2.0 / 3.0))
    let expected = -(log(0.7) + log(0.8) + log(0.1)) / 3
    #expect(isClose(score.crossEntropy, expected))
  }

  @Test func gridSelectionTakesTheBestAccuracyThenTheLowerCrossEntropyThenTheFirst() {
    let scores = [
      ValidationScore(accuracy: 0.80, crossEntropy: 0.5),
      ValidationScore(accuracy: 0.90, crossEntropy: 0.7),
      ValidationScore(accuracy: 0.90, crossEntropy: 0.4),
      ValidationScore(accuracy: 0.90, crossEntropy: 0.4),
      ValidationScore(accuracy: 0.85, crossEntropy: 0.1),
    ]
    #expect(TrainStage.selectBest(scores) == 2)
    #expect(TrainStage.selectBest([scores[0]]) == 0)
    #expect(TrainStage.selectBest([scores[4], scores[0]]) == 0)
  }

  @Test func stratifiedSubsetKeepsClassProportionsAndDependsOnlyOnTheSeed() {
    // 1000 labels with unequal classes (110 of each even digit, 90 of each odd), shuffled.
    var labels: [Int] = []
    for c in 0..<10 { labels += [Int](repeating: c, count: c % 2 == 0 ? 110 : 90) }
    labels = labels.enumerated().sorted { ($0.offset * 7919) % 1000 < ($1.offset * 7919) % 1000 }
      .map(\.element)
    let subset = MNISTTensors.stratifiedSubset(labels: labels, count: 100, seed: 5)
    #expect(subset.count == 100)
    #expect(Set(subset).count == 100 && subset == subset.sorted())
    for c in 0..<10 {
      #expect(subset.filter { labels[$0] == c }.count == (c % 2 == 0 ? 11 : 9), "class \(c)")
    }
    #expect(subset == MNISTTensors.stratifiedSubset(labels: labels, count: 100, seed: 5))
    #expect(subset != MNISTTensors.stratifiedSubset(labels: labels, count: 100, seed: 6))
    #expect(subset != Array(0..<100), "not a prefix")
    // Remainders: 15 of 1000 gives 1.65 / 1.35 per class; the largest remainders get one more.
    let small = MNISTTensors.stratifiedSubset(labels: labels, count: 15, seed: 1)
    #expect(small.count == 15)
    for c in 0..<10 {
      #expect([1, 2].contains(small.filter { labels[$0] == c }.count), "class \(c)")
    }
  }

  // MARK: - Cache keys and status

  /// The key material of every stage of `plan`, by id.
  static func keys(_ plan: ExperimentPlan) throws -> [StageID: KeyMaterial] {
    var keys: [StageID: KeyMaterial] = [:]
    for node in plan.graph.nodes {
      keys[node.id] = try KeyMaterial(stage: node.stage, inputDigests: [:], seed: node.seed)
    }
    return keys
  }

  static func plan(_ overrides: [String]) throws -> ExperimentPlan {
    try ExperimentPlan(
      target: "keys",
      profile: Profile.smoke.applying(overrides.map { try ProfileOverride(parsing: $0) }),
      cells: [
        Cell(acquisition: .varRatios, model: .mcDropout, repetition: 0),
        Cell(acquisition: .varRatios, model: .deterministic, repetition: 0),
      ],
      resources: ExperimentResources()
    )
  }

  @Test(arguments: [
    ("initialisation=glorot", "train", "parameters.initialisation: \"keras-0.3\" -> \"glorot\""),
    ("last-batch=drop", "train", "parameters.lastBatch: \"keep\" -> \"drop\""),
    (
      "weight-decay-grid=0.5,3.5", "train",
      "parameters.weightDecayGrid: [] -> [f64:3fe0000000000000 (0.5)"
    ),
    (
      "deterministic-var-ratios=mode-count", "score",
      "parameters.singlePassVariationRatios: \"least-confidence\" -> \"mode-count\""
    ),
    ("seed=3", "evaluate", "parameters.testSubsetSeed"),
    ("test-mc-samples=50", "evaluate", "parameters.mcSamples: 2 -> 50"),
  ])
  func everyProtocolParameterEntersTheKeyAndStatusNamesIt(
    override: String,
    kind: String,
    change: String
  ) throws {
    let before = try Self.keys(Self.plan([]))
    let after = try Self.keys(Self.plan([override]))
    // The deterministic cell's evaluation runs no MC passes (a point mass): test passes enter
    // the Bayesian cell's evaluate key.
    let model: UncertaintySource = kind == "evaluate" ? .mcDropout : .deterministic
    let cell = Cell(acquisition: .varRatios, model: model, repetition: 0)
    let id = ExperimentPlan.stageID(cell, round: 0, kind)
    let old = try #require(before[id])
    let new = try #require(after[id])
    #expect(old.key != new.key, "\(override) must change the \(kind) key")
    let described = new.changes(from: old).map(\.description)
    #expect(described.contains { $0.hasPrefix(change) }, "\(described)")
  }

  @Test func theDeterministicCNNIsEvaluatedWithoutMCPassesAndCalibratedWithThem() throws {
    let before = try Self.keys(Self.plan([]))
    let after = try Self.keys(Self.plan(["test-mc-samples=50"]))
    let cell = Cell(acquisition: .varRatios, model: .deterministic, repetition: 0)
    let evaluate = ExperimentPlan.stageID(cell, round: 0, "evaluate")
    let calibrate = ExperimentPlan.stageID(cell, round: 0, "calibrate")
    #expect(before[evaluate]?.key == after[evaluate]?.key)
    #expect(before[calibrate] != nil && before[calibrate]?.key != after[calibrate]?.key)
    let plan = try Self.plan([])
    let stage = try #require(plan.graph[evaluate]?.stage as? EvaluateStage)
    #expect(stage.parameters.mcSamples == 0)
  }

  @Test func weightDecayDoesNotSplitKeysUnderAGrid() throws {
    let a = try Self.keys(Self.plan(["weight-decay-grid=1,2", "weight-decay=3.5"]))
    let b = try Self.keys(Self.plan(["weight-decay-grid=1,2", "weight-decay=9"]))
    let cell = Cell(acquisition: .varRatios, model: .mcDropout, repetition: 0)
    let id = ExperimentPlan.stageID(cell, round: 0, "train")
    #expect(a[id]?.key == b[id]?.key)
  }

  @Test func theSinglePassChoiceSplitsOnlyDeterministicVariationRatios() throws {
    let before = try Self.keys(Self.plan([]))
    let after = try Self.keys(Self.plan(["deterministic-var-ratios=mode-count"]))
    let bayesian = ExperimentPlan.stageID(
      Cell(acquisition: .varRatios, model: .mcDropout, repetition: 0),
      round: 0,
      "score"
    )
    #expect(before[bayesian]?.key == after[bayesian]?.key)
  }

  // MARK: - Bad input

  @Test(arguments: [
    (
      "initialisation=he",
      "invalid value \"he\" for initialisation: expected one of 'keras-0.3', 'glorot'"
    ),
    ("last-batch=maybe", "expected one of 'keep', 'drop'"),
    (
      "weight-decay-grid=1,0,2",
      "invalid value \"0\" for weight-decay-grid: expected positive numbers"
    ),
    ("weight-decay-grid=1,-2", "invalid value \"-2\" for weight-decay-grid"),
    ("weight-decay-grid=1,1", "each value at most once"),
    ("deterministic-var-ratios=mode", "expected one of 'least-confidence', 'mode-count'"),
  ])
  func badProtocolValuesNameTheKeyTheValueAndTheAcceptedOnes(text: String, message: String) {
    #expect {
      _ = try ProfileOverride(parsing: text)
    } throws: { error in
      "\(error)".contains(message)
    }
  }

  @Test func overridesKeepACanonicalSpelling() throws {
    #expect(
      try ProfileOverride(parsing: "weight-decay-grid= 0.5, 1 ,2.5").description
        == "weight-decay-grid=0.5,1.0,2.5"
    )
    #expect(
      try ProfileOverride(parsing: "weight-decay-grid=none").description
        == "weight-decay-grid=none"
    )
    let profile = Profile.quick.applying([try ProfileOverride(parsing: "weight-decay-grid=1,2")])
    #expect(profile.parameters.weightDecayGrid == [1, 2])
    #expect(profile.parameters.weightDecayCandidates == [1, 2])
  }

  @Test func aBadSettingInADocumentNamesTheFileAndLine() throws {
    let document = try NotebookDocument(
      parsing: """
        # T

        ```dbal-experiment
        acquisitions: bald
        models: bayesian
        set: initialisation=lecun
        ```
        """,
      fileName: "t.md"
    )
    #expect {
      _ = try ExperimentPlan(
        document: document,
        profile: .smoke,
        overrides: [],
        resources: ExperimentResources()
      )
    } throws: { error in
      let text = "\(error)"
      return text.hasPrefix("t.md:3:") && text.contains("\"lecun\"")
        && text.contains("'keras-0.3', 'glorot'")
    }
  }

  @Test func aGridListInADocumentContinuesOverCommas() throws {
    let document = try NotebookDocument(
      parsing: """
        # T

        ```dbal-experiment
        acquisitions: bald
        models: bayesian
        set: weight-decay-grid=0.5, 1, 2.5, epochs=3
        ```
        """,
      fileName: "t.md"
    )
    let plan = try ExperimentPlan(
      document: document,
      profile: .smoke,
      overrides: [],
      resources: ExperimentResources()
    )
    #expect(plan.profile.parameters.weightDecayGrid == [0.5, 1, 2.5])
    #expect(plan.profile.parameters.epochs == 3)
  }

  @Test func infeasibleConfigurationsAreRejectedBeforeAnythingRuns() {
    #expect {
      _ = try Self.plan(["pool-subset=5"])
    } throws: { error in
      "\(error)".contains("pool-subset 5 is smaller than acquire-count 10")
    }
    #expect {
      _ = try Self.plan(["weight-decay-grid=1,2", "validation=0"])
    } throws: { error in
      "\(error)".contains("validation is 0")
    }
  }

  // MARK: - Profiles and the protocol section

  @Test func thePaperProfileRunsTheAuthorsInitialisationAndThePapersDeterministicFormula() {
    let p = Profile.paper.parameters
    #expect(p.initialisation == .keras03)
    #expect(p.deterministicVarRatios == .leastConfidence)
    #expect(p.lastBatch == .keep)
    #expect(p.weightDecayGrid.isEmpty && p.weightDecay == 3.5)
  }

  @Test func noticesAndTheProtocolSectionFollowTheResolvedParameters() throws {
    let profile = Profile.smoke.applying([
      try ProfileOverride(parsing: "rounds=5"), try ProfileOverride(parsing: "epochs=10"),
    ])
    let notice = try #require(profile.notice)
    #expect(notice.contains("5 rounds of 10 = 50 acquired images"))
    #expect(notice.contains("10 epochs per round"))
    #expect(
      !notice.contains("repetition(s)") && notice.contains(profile.parameters.repetitionsText)
    )
    #expect(Profile.paper.summary.hasPrefix("3 repetitions, 1000 acquired images"))
    #expect(!notice.contains("2 rounds"))
    let plan = try Self.plan(["initialisation=glorot", "weight-decay-grid=1,2"])
    let table = ProtocolDescription.table(
      plan: plan,
      figures: [
        FigureBlock(id: "f", panels: .acquisition, series: .model, metric: .natural, line: 1)
      ]
    )
    let text = table.rows.map { $0.joined(separator: " | ") }.joined(separator: "\n")
    #expect(text.contains("conv1 ±0.107"))
    #expect(text.contains("tuned every round on the validation set over c in {1.0, 2.0}"))
    #expect(text.contains("Bayesian CNN: MC-dropout accuracy; Deterministic CNN: dropout-off"))
    #expect(text.contains("a seeded class-stratified random subset of 500 test images"))
    #expect(text.contains("T = 2 MC-dropout passes"))
    #expect(text.contains("40,000 images ([20k, 60k) of a shuffle)") && !text.contains("MBR.py"))
    #expect(table.rows.allSatisfy { $0.count == table.columns.count })
  }

  @Test func thePoolRowSaysWhatWasScoredWhenTheSubsetCoversThePool() throws {
    let plan = try Self.plan(["pool-size=100", "pool-subset=200", "test-mc-samples=10"])
    let rows = ProtocolDescription.table(plan: plan, figures: []).rows
    let pool = try #require(rows.first { $0[0] == "Pool" })
    #expect(
      pool[1] == "a seeded subset of 100 of the training images outside the validation and "
        + "initial sets; the whole pool scored each round (`pool-subset` 200 is not smaller "
        + "than the pool)"
    )
    #expect(pool[4] == "pool size overridden (`pool-size`); subset size overridden (`pool-subset`)")
    #expect(rows.allSatisfy { row in row.allSatisfy { !$0.contains("; ;") } })
    let test = try #require(rows.first { $0[0] == "Test accuracy" })
    #expect(test[4].hasPrefix("T = 10 for speed (`test-mc-samples`"))
  }
}

/// Values quoted by documents never state more than the data holds.
struct PartialValueTests {
  static let cells = [
    Cell(acquisition: .bald, model: .mcDropout, repetition: 0),
    Cell(acquisition: .bald, model: .mcDropout, repetition: 1),
    Cell(acquisition: .random, model: .mcDropout, repetition: 0),
    Cell(acquisition: .random, model: .mcDropout, repetition: 1),
  ]

  static func plan() throws -> ExperimentPlan {
    try ExperimentPlan(
      target: "values",
      profile: Profile.smoke.applying([try ProfileOverride(parsing: "repetitions=2")]),
      cells: cells,
      resources: ExperimentResources()
    )
  }

  static func points(_ rounds: Int, accuracy: Double) -> [CurvePoint] {
    (0..<rounds).map {
      CurvePoint(
        acquired: 10 * $0,
        labelled: 20 + 10 * $0,
        accuracyMC: accuracy,
        accuracyDeterministic: accuracy
      )
    }
  }

  @Test func partialValuesNameWhereTheyComeFrom() throws {
    let results = ExperimentResults(
      plan: try Self.plan(),
      curves: [Self.cells[0]: Self.points(2, accuracy: 0.5), Self.cells[1]: []]
    )
    #expect(!results.isComplete)
    let values = results.values
    #expect(values["rounds"] == "2 (planned)")
    #expect(values["acquired.total"] == "20 (planned)")
    #expect(values["repetitions"] == "2 (planned)")
    #expect(values["repetitions.text"] == "2 repetitions (planned)")
    #expect(
      values["final.mc.bald.bayesian"] == "50.00% (at 10 acquired, 1 of 2 repetitions so far)"
    )
    #expect(values["final.mc.random.bayesian"] == "– (not computed yet)")
    // Repetitions at different rounds: the furthest round, over the repetitions that reached
    // it, never the mean of a late round and an early one (90% at 20 and 50% at 10 is not 70%).
    let uneven = ExperimentResults(
      plan: try Self.plan(),
      curves: [
        Self.cells[0]: Self.points(3, accuracy: 0.9), Self.cells[1]: Self.points(2, accuracy: 0.5),
      ]
    )
    #expect(
      uneven.values["final.mc.bald.bayesian"]
        == "90.00% (at 20 acquired, 1 of 2 repetitions so far)"
    )
  }

  /// A run evaluated every 10 acquired images with these MC accuracies, and dropout-off
  /// accuracies `dropoutOffLower` below them.
  static func curve(_ accuracies: [Double], dropoutOffLower: Double = 0) -> [CurvePoint] {
    accuracies.enumerated().map {
      CurvePoint(
        acquired: 10 * $0.offset,
        labelled: 20 + 10 * $0.offset,
        accuracyMC: $0.element,
        accuracyDeterministic: $0.element - dropoutOffLower
      )
    }
  }

  @Test func partialCrossingsSayWhichRunsTheyComeFrom() throws {
    let curve = { Self.curve($0) }
    let results = ExperimentResults(
      plan: try Self.plan(),
      curves: [
        // BALD: r0 finished, crossing 10% at 9.5 and 5% at 16; r1 still running below both.
        Self.cells[0]: curve([0.5, 0.92, 0.97]), Self.cells[1]: curve([0.5, 0.6]),
        // Random: r0 finished without reaching 10%; r1 has only its round 0.
        Self.cells[2]: curve([0.5, 0.6, 0.7]), Self.cells[3]: curve([0.5]),
      ]
    )
    let rows = Dictionary(
      uniqueKeysWithValues: results.acquiredToErrorTable(thresholds: [10, 5]).rows.map {
        ($0[0], $0)
      }
    )
    let bald = try #require(rows["BALD"])
    #expect(
      bald[1] == "10 (1 of 2 repetitions so far)" && bald[5] == "16 (1 of 2 repetitions so far)"
    )
    let random = try #require(rows["Random"])
    #expect(random[1] == "not reached by 20 (0/2 runs), 1 still running")
    // Only unfinished runs that have not crossed: no claim that the profile's end was reached.
    let early = ExperimentResults(
      plan: try Self.plan(),
      curves: [Self.cells[0]: curve([0.5]), Self.cells[1]: curve([0.5])]
    )
    let row = try #require(
      early.acquiredToErrorTable(thresholds: [10]).rows.first { $0[0] == "BALD" }
    )
    #expect(row[1] == "not started yet (round 0 only)")
    // A cell with only the shared round 0 quotes no accuracy, in the values and in Table 2.
    #expect(early.values["final.mc.bald.bayesian"] == "– (not computed yet)")
    let errors = try #require(early.errorAtEndTable().rows.first { $0[0] == "BALD" })
    #expect(errors[1] == "–" && errors[2] == "–", "\(errors)")
  }

  @Test func finishedCrossingsGiveTheirMeanAndRange() throws {
    let curve = { Self.curve($0, dropoutOffLower: 0.05) }
    // BALD r0 reaches 90% at 10 * 0.4 / 0.42 = 9.52 and 95% at 10 + 10 * 0.03 / 0.05 = 16;
    // r1 at 10 + 10 * 0.2 / 0.26 = 17.69 and 10 + 10 * 0.25 / 0.26 = 19.62: means 13.61, 17.81.
    let results = ExperimentResults(
      plan: try Self.plan(),
      curves: [
        Self.cells[0]: curve([0.5, 0.92, 0.97]), Self.cells[1]: curve([0.5, 0.7, 0.96]),
        Self.cells[2]: curve([0.5, 0.92, 0.97]), Self.cells[3]: curve([0.5, 0.6, 0.7]),
      ]
    )
    let rows = Dictionary(
      uniqueKeysWithValues: results.acquiredToErrorTable(thresholds: [10, 5]).rows.map {
        ($0[0], $0)
      }
    )
    let bald = try #require(rows["BALD"])
    #expect(bald[1] == "14 (range 10–18)" && bald[5] == "18 (range 16–20)", "\(bald)")
    // Dropout off, 5 points lower: 10% error at 10 + 10 * 0.03 / 0.05 = 16 and 10 + 10 * 0.25 /
    // 0.26 = 19.62; 5% never.
    #expect(bald[2] == "18 (range 16–20)" && bald[6] == "not reached by 20 (0/2 runs)", "\(bald)")
    // One repetition never reaches the threshold: no mean claimed over the other alone.
    let random = try #require(rows["Random"])
    #expect(random[1] == "not reached by 20 (1/2 runs)", "\(random)")
  }

  @Test func completeValuesArePlain() throws {
    var curves: [Cell: [CurvePoint]] = [:]
    for cell in Self.cells { curves[cell] = Self.points(3, accuracy: 0.9) }
    let results = ExperimentResults(plan: try Self.plan(), curves: curves)
    #expect(results.isComplete)
    #expect(results.values["final.det.random.bayesian"] == "90.00%")
    #expect(results.values["acquired.total"] == "20")
    #expect(results.values["repetitions.text"] == "2 repetitions")
  }
}

/// fig2's paired reading: per repetition, which model reached an error first and in how many
/// rounds the Bayesian CNN was ahead, each model by its own metric.
struct PairedComparisonTests {
  static let cells = (0..<3).flatMap { repetition in
    [UncertaintySource.mcDropout, .deterministic].map {
      Cell(acquisition: .varRatios, model: $0, repetition: repetition)
    }
  }

  /// A run evaluated every 10 acquired images. The Bayesian CNN is read by its MC accuracy, the
  /// deterministic CNN with dropout off: the other metric is set far off so that reading it
  /// would change every number.
  static func run(_ accuracies: [Double], bayesian: Bool) -> [CurvePoint] {
    accuracies.enumerated().map {
      CurvePoint(
        acquired: 10 * $0.offset,
        labelled: 20 + 10 * $0.offset,
        accuracyMC: bayesian ? $0.element : $0.element - 0.3,
        accuracyDeterministic: bayesian ? $0.element - 0.2 : $0.element
      )
    }
  }

  static func results(
    r2 bayesian: [Double],
    deterministic: [Double] = [0.5, 0.7, 0.8]
  ) throws -> ExperimentResults {
    let plan = try ExperimentPlan(
      target: "paired",
      profile: Profile.smoke.applying([try ProfileOverride(parsing: "repetitions=3")]),
      cells: cells,
      resources: ExperimentResources()
    )
    // Smoke: 2 rounds, 20 acquired. r0: the Bayesian CNN reaches 10% at 10 * 0.4 / 0.42 = 9.5
    // and 5% at 10 + 10 * 0.03 / 0.05 = 16, the deterministic at 10 + 10 * 0.03 / 0.09 = 13.3
    // and 10 + 10 * 0.08 / 0.09 = 18.9. r1: the Bayesian at 10 + 10 * 0.1 / 0.13 = 17.7 and
    // never, the deterministic at 10 * 0.4 / 0.41 = 9.8 and 10 + 10 * 0.04 / 0.06 = 16.7.
    // r2: by default the deterministic run ended at 80%.
    let accuracies: [[Double]] = [
      [0.5, 0.92, 0.97], [0.5, 0.87, 0.96], [0.5, 0.8, 0.93], [0.5, 0.91, 0.97], bayesian,
      deterministic,
    ]
    var curves: [Cell: [CurvePoint]] = [:]
    for (cell, values) in zip(cells, accuracies) {
      curves[cell] = run(values, bayesian: cell.model == .mcDropout)
    }
    return ExperimentResults(plan: plan, curves: curves)
  }

  @Test func runningRepetitionsWaitUntilTheyCross() throws {
    // r2's Bayesian run is still going (one round, 60%): no crossing yet, no verdict.
    let values = try Self.results(r2: [0.5, 0.6]).values
    #expect(
      values["paired.var-ratios.10"]
        == "1 of 2 repetitions (r0: 10 against 13, r1: 18 against 10); r2 not there yet"
    )
    #expect(
      values["paired.var-ratios.5"]
        == "1 of 2 repetitions (r0: 16 against 19, r1: not reached by 20 against 17); r2 not "
        + "there yet"
    )
    // Rounds 10 and 20: r0 ahead in both, r1 in neither; r2 behind in its one round so far.
    #expect(values["paired.var-ratios.ahead"] == "2 of 2, 0 of 2 and 0 of 1 rounds (r0, r1, r2)")
    // Only round 0 so far: no round to compare yet.
    let started = try Self.results(r2: [0.5]).values
    #expect(started["paired.var-ratios.ahead"] == "2 and 0 of 2 rounds (r0, r1); r2 not there yet")
  }

  @Test func pairsThatNeitherWonAreNamedNotCounted() throws {
    // r2: both runs ended below 90%.
    let missed = try Self.results(r2: [0.5, 0.6, 0.7]).values
    #expect(
      missed["paired.var-ratios.10"]
        == "1 of 2 repetitions (r0: 10 against 13, r1: 18 against 10); r2: neither by 20"
    )
    // r2: 10% error at 10 * 0.4 / 0.45 = 8.9 and 10 * 0.4 / 0.46 = 8.7: both at 9 as shown, a
    // tie, although the unrounded deterministic crossing is earlier.
    let tied = try Self.results(r2: [0.5, 0.95, 0.97], deterministic: [0.5, 0.96, 0.97]).values
    #expect(
      tied["paired.var-ratios.10"]
        == "1 of 2 repetitions (r0: 10 against 13, r1: 18 against 10); r2: both at 9"
    )
  }

  @Test func finishedRepetitionsAreAllCounted() throws {
    // r2's Bayesian run reaches 10% at 10 + 10 * 0.3 / 0.35 = 18.6 and 5% at 20; the
    // deterministic never does.
    let values = try Self.results(r2: [0.5, 0.6, 0.95]).values
    #expect(
      values["paired.var-ratios.10"]
        == "2 of 3 repetitions (r0: 10 against 13, r1: 18 against 10, r2: 19 against not reached "
        + "by 20)"
    )
    #expect(values["paired.var-ratios.ahead"] == "2, 0 and 1 of 2 rounds (r0, r1, r2)")
    // A target with one model has no pairs, and no such values.
    let single = ExperimentResults(
      plan: try PartialValueTests.plan(),
      curves: [:]
    )
    #expect(single.values.keys.filter { $0.hasPrefix("paired.") }.isEmpty)
  }
}

/// Reports point at the dips small last batches leave (paper protocol: 130 labels keep 2).
struct SmallLastBatchTests {
  @Test func roundsWithTinyLastBatchesAreFoundAndTheirDipMeasured() throws {
    let cell = Cell(acquisition: .bald, model: .mcDropout, repetition: 0)
    let plan = try ExperimentPlan(
      target: "dips",
      profile: Profile.paper.applying([try ProfileOverride(parsing: "repetitions=1")]),
      cells: [cell],
      resources: ExperimentResources()
    )
    // Accuracy 0.9 everywhere except 0.8 at round 11 (130 labels): a 10 pp dip.
    let points = (0...12).map { round in
      CurvePoint(
        acquired: 10 * round,
        labelled: 20 + 10 * round,
        accuracyMC: round == 11 ? 0.8 : 0.9,
        accuracyDeterministic: 0.5
      )
    }
    let results = ExperimentResults(plan: plan, curves: [cell: points])
    let small = results.smallBatchRounds()
    // Labelled sizes 20 + 10 r with 0 < N mod 128 < 16 (an eighth of 128): 130 (2), 140 (12),
    // 260 (4), 270 (14), 390 (6), 520 (8), 650 (10), 770 (2), 780 (12), 900 (4), 910 (14);
    // 400 leaves 16 and 1020 leaves 124.
    #expect(
      small.map(\.labelled) == [130, 140, 260, 270, 390, 520, 650, 770, 780, 900, 910]
    )
    #expect(small.first?.lastBatch == 2)
    #expect(isClose(small.first?.dip ?? 0, -10))
    #expect(small[1].dip == nil, "round 12 has no next round yet")
    var drop = plan.profile
    drop.parameters.lastBatch = .drop
    let dropped = ExperimentResults(
      plan: try ExperimentPlan(
        target: "dips",
        profile: drop,
        cells: [cell],
        resources: ExperimentResources()
      ),
      curves: [cell: points]
    )
    #expect(dropped.smallBatchRounds().isEmpty)
  }
}
