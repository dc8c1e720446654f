import Acquisition
import Foundation
import HDF5Store
import MNIST
import NeuralEngine
import Notebook
import PipelineCore
import Reports
import TestSupport
import Testing

@testable import Experiments

// MARK: - Bad input

@Test(arguments: [
  ("dataset=digits:2,2", ["dataset", "digits:2,2", "distinct digits", "2 appears twice"]),
  ("dataset=digits:2,10", ["dataset", "digits:2,10", "0...9", "\"10\" is not one"]),
  ("dataset=digits:8", ["dataset", "digits:8", "at least two digits"]),
  ("dataset=fashion", ["dataset", "fashion", "mnist, digits:"]),
  ("rbf-sigma=0", ["rbf-sigma", "value 0", "0.001...1000.0"]),
  ("rbf-sigma=-1", ["rbf-sigma", "value -1", "0.001...1000.0"]),
  ("pool-size=70000", ["pool-size", "70000", "0...60000"]),
])
func badFigure3ValuesNameTheKeyTheValueAndTheLimit(text: String, fragments: [String]) {
  #expect {
    _ = try ProfileOverride(parsing: text)
  } throws: { error in
    fragments.allSatisfy { "\(error)".contains($0) }
  }
}

@Test func aDigitsVariantParsesPrintsAndDeclaresItsClasses() throws {
  let variant = try DatasetVariant(parsing: "digits:8,2")
  #expect(variant == .digits([8, 2]))
  #expect(variant.description == "digits:8,2")
  #expect(variant.declaredFacts.classNames == ["8", "2"])
  #expect(try DatasetVariant(parsing: "mnist") == .mnist)
  var p = ExperimentParameters.paper
  p.dataset = variant
  p.initialPerClass = 10
  #expect(p.initialLabelled == 20)
  // The defaults are not stored: the paper's parameters encode as before.
  var back = ExperimentParameters.paper
  back.dataset = variant
  #expect(ParameterDigest.of(back) != ParameterDigest.of(.paper))
  back.dataset = .mnist
  #expect(ParameterDigest.of(back) == ParameterDigest.of(.paper))
  #expect(
    ParameterDigest.of(Profile.paper.applying([try .init(parsing: "rbf-sigma=1")]).parameters)
      == ParameterDigest.of(.paper)
  )
}

@Test func aPoolLargerThanTheImagesLeftIsRejectedWithTheLimit() throws {
  // Plan time: MNIST's 60,000 less 100 validation and 20 initial leave 59,880.
  let profile = Profile.smoke.applying([try .init(parsing: "pool-size=59900")])
  #expect {
    _ = try ExperimentPlan(
      target: "t",
      profile: profile,
      cells: [Cell(acquisition: .random, model: .mcDropout, repetition: 0)],
      resources: ExperimentResources()
    )
  } throws: { error in
    "\(error)".contains("pool-size=59900") && "\(error)".contains("at most 59880")
  }
  // Split time, where a variant's real size is known: 30 images, 4 validation, 2 x 3 initial.
  let labels = (0..<30).map { $0 % 2 }
  var generator = SeededGenerator(seed: 1)
  #expect {
    _ = try SplitStage.split(
      labels: labels,
      classes: 2,
      validation: 4,
      initialPerClass: 3,
      poolSize: 21,
      generator: &generator
    )
  } throws: { error in
    "\(error)".contains("pool-size=21") && "\(error)".contains("at most 20")
  }
  var again = SeededGenerator(seed: 1)
  let set = try SplitStage.split(
    labels: labels,
    classes: 2,
    validation: 4,
    initialPerClass: 3,
    poolSize: 15,
    generator: &again
  )
  #expect(set.pool.count == 15 && set.unused.count == 5)
  try set.validate(trainingCount: 30, file: "split")
}

@Test func theHarmonicSourcePairsOnlyWithMBRAndNeedsTwoClasses() throws {
  #expect {
    _ = try ExperimentPlan(
      target: "t",
      profile: .smoke,
      cells: [Cell(acquisition: .minimumBayesRisk, model: .harmonic, repetition: 0)],
      resources: ExperimentResources()
    )
  } throws: { error in
    "\(error)".contains("needs two classes") && "\(error)".contains("dataset=digits:2,8")
  }
  #expect {
    _ = try ExperimentPlan(
      target: "t",
      profile: .smoke,
      cells: [Cell(acquisition: .bald, model: .harmonic, repetition: 0)],
      resources: ExperimentResources()
    )
  } throws: { error in
    "\(error)".contains("bald.harmonic.r0") && "\(error)".contains("mbr runs only with")
  }
  let document = try NotebookDocument(
    parsing: """
      # t

      ```dbal-experiment
      acquisitions: bald, mbr
      models: bayesian
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
    "\(error)".contains("t.md") && "\(error)".contains("mbr pairs with nothing")
  }
}

@Test func fig3HasTheFiveMethodsAsCellsOfOneTarget() throws {
  let catalog = TargetCatalog(
    directory: TestSupport.repositoryRoot.appendingPathComponent("Pipelines")
  )
  let plan = try ExperimentPlan(
    document: try catalog.document("fig3"),
    profile: .paper,
    overrides: [],
    resources: ExperimentResources()
  )
  #expect(
    Set(plan.cells.map(\.configuration))
      == [
        "bald.bayesian.digits-2-8", "var-ratios.bayesian.digits-2-8",
        "max-entropy.bayesian.digits-2-8", "random.bayesian.digits-2-8", "mbr.harmonic.digits-2-8",
      ]
  )
  #expect(plan.cells.count == 15)
  let p = plan.profile.parameters
  #expect(p.dataset == .digits([2, 8]) && p.poolSize == 5000 && p.initialLabelled == 20)
  #expect(p.validation == 1000 && p.rbfSigma == 1)
  // The split reads the derived dataset; one graph per repetition.
  #expect(plan.graph[ExperimentPlan.dataID(.digits([2, 8]))] != nil)
  #expect(
    (0..<3).allSatisfy {
      plan.graph[ExperimentPlan.harmonicGraphID(repetition: $0, dataset: .digits([2, 8]))] != nil
    }
  )
  // The protocol section quotes the authors' Figure 3 script, not their Figure 1 scripts.
  let rows = ProtocolDescription.table(plan: plan, figures: []).rows
  let pool = try #require(rows.first { $0[0] == "Pool" })
  let validation = try #require(rows.first { $0[0] == "Validation set" })
  #expect(pool[3].contains("`MBR.py`: 5000 images") && !pool[3].contains("40,000"))
  #expect(validation[3].hasPrefix("`MBR.py`: 1000 (all 2s") && !validation[3].contains("5000"))
  let initial = try #require(rows.first { $0[0] == "Initial labelled set" })
  #expect(
    initial[3].hasSuffix("all 2s") && initial[4] == "the paper's (the script's 20 are one class)"
  )
  #expect(validation[4] == "the authors' `MBR.py` (the paper gives none for Figure 3)")
  #expect(pool[4].hasPrefix("the pool size of the authors' `MBR.py`; subset as the authors"))
  #expect(!pool[1].contains("; ;"))
  let test = try #require(rows.first { $0[0] == "Test accuracy" })
  #expect(test[1].hasPrefix("on all test images of MNIST 2 vs 8:"))
  #expect(test[3] == "`model.evaluate`: dropout off, the 2s and 8s of the test set")
  #expect(plan.profile.summary.contains("T = 100, 50 epochs, test images of MNIST 2 vs 8:"))
  #expect(Profile.paper.summary.contains("50 epochs, 10,000 test images:"))
}

// MARK: - The derived dataset

@Test func aDigitsVariantKeepsThoseDigitsRelabelledInOrderAndRoundTrips() throws {
  let pixels = MNISTDataset.pixelsPerImage
  func images(_ labels: [Int32]) -> [Float] {
    labels.enumerated().flatMap { index, _ in [Float](repeating: Float(index) / 10, count: pixels) }
  }
  let trainLabels: [Int32] = [2, 5, 8, 2, 9, 8]
  let testLabels: [Int32] = [8, 1, 2]
  let source = MNISTDataset(
    trainImages: images(trainLabels),
    trainLabels: trainLabels,
    testImages: images(testLabels),
    testLabels: testLabels
  )
  var unused = SeededGenerator(seed: 0)
  let derived = DatasetVariant.digits([8, 2]).derive(source, generator: &unused)
  #expect(derived.trainLabels == [1, 0, 1, 0])
  #expect(derived.testLabels == [0, 1])
  // The kept images are the original ones, in MNIST's order: indices 0, 2, 3, 5.
  #expect(derived.trainImages[pixels] == 0.2 && derived.trainImages[3 * pixels] == 0.5)
  #expect(derived.facts.classNames == ["8", "2"])
  #expect(derived.facts.trainingCount == 4 && derived.facts.testCount == 2)
  let directory = try TestSupport.temporaryDirectory("dbal-variant")
  let path = directory.appendingPathComponent("variant.h5").path
  try derived.write(to: path)
  let read = try MNISTDataset(contentsOf: path)
  #expect(read == derived)
  #expect(read.variant == "digits:8,2")
}

// MARK: - The fig3 loop

/// A real fig3 loop on MNIST 2 vs 8 with a small graph. In ``SmokeLoopTests``' serialized
/// suite: two in-process loops at once would wait on each other for the two cores.
extension SmokeLoopTests {
  @Test(.enabled(if: TestSupport.mnistMirror != nil, "needs the MNIST mirror (DBAL_MNIST_MIRROR)"))
  func fig3LoopRunsTheCNNAndMBROnTwoDigits() throws {
    let directory = try TestSupport.temporaryDirectory("dbal-fig3-loop")
    defer { try? FileManager.default.removeItem(at: directory) }
    let profile = Profile.smoke.applying(
      try [
        "dataset=digits:2,8", "initial-per-class=10", "pool-size=400", "test-subset=300",
        "rounds=1", "epochs=1", "calibration=off",
      ]
      .map { try ProfileOverride(parsing: $0) }
    )
    let pair = DatasetVariant.digits([2, 8])
    let mbr = Cell(acquisition: .minimumBayesRisk, model: .harmonic, repetition: 0, dataset: pair)
    let cnn = Cell(acquisition: .maxEntropy, model: .mcDropout, repetition: 0, dataset: pair)
    let plan = try ExperimentPlan(
      target: "fig3-test",
      profile: profile,
      cells: [mbr, cnn],
      resources: ExperimentResources()
    )
    let runner = PipelineRunner(
      store: try ArtifactStore(root: directory.appendingPathComponent("cache")),
      toolVersion: "test",
      settings: ["data-dir": directory.path, "mnist-mirror": TestSupport.mnistMirror!.path]
    )
    try runner.run(plan.graph, recordAs: "fig3-test")
    let statuses = try runner.status(plan.graph)
    func artifact(_ id: StageID, _ name: String) throws -> URL? {
      guard case .cached(let key)? = statuses[id] else { return nil }
      return try runner.store.verifiedArtifactURL(key: key, name: name)
    }
    // The derived file: two classes, 2 and 8, every such image of MNIST.
    let data = try MNISTTensors(
      contentsOf: try #require(try artifact(ExperimentPlan.dataID(.digits([2, 8])), "mnist"))
    )
    #expect(data.facts.classNames == ["2", "8"])
    #expect(Set(data.trainLabels) == [0, 1] && data.facts.trainingCount > 10_000)
    // The CNN has two outputs.
    let model = try ModelArtifact.read(
      from: try #require(try artifact(ExperimentPlan.stageID(cnn, round: 0, "train"), "model"))
    )
    #expect(model.architecture.classCount == 2)
    let results = try ExperimentResults(plan: plan) { try artifact($0, $1) }
    for cell in [mbr, cnn] {
      let points = try #require(results.curves[cell])
      #expect(points.map(\.acquired) == [0, 10], "\(cell)")
      #expect(points.allSatisfy { (0...1).contains($0.accuracyMC) }, "\(cell)")
      let metrics = try EvaluationMetrics(
        contentsOf: try #require(
          try artifact(ExperimentPlan.stageID(cell, round: 1, "evaluate"), "metrics")
        )
      )
      #expect(metrics.testCount == 300)
    }
    // The harmonic field labels 2 vs 8 well from 30 labels (this split: 65% from the first
    // 20, then 97%): a swapped class or sign would not.
    #expect(results.curves[mbr]!.allSatisfy { $0.accuracyMC > 0.5 })
    #expect(results.curves[mbr]!.last!.accuracyMC > 0.9)
    // MBR acquired the lowest expected risks (highest scores) of its scored subset.
    let scores = try PoolScores(
      contentsOf: try #require(
        try artifact(ExperimentPlan.stageID(mbr, round: 0, "score"), "scores")
      )
    )
    #expect(scores.subset.count == 200 && scores.function == "mbr")
    let acquired = try LabelledSet(
      contentsOf: try #require(
        try artifact(ExperimentPlan.stageID(mbr, round: 0, "acquire"), "labelled")
      )
    )
    let best = scores.scores.sorted(by: >).prefix(10)
    #expect(acquired.acquiredScores.sorted(by: >) == Array(best))
    #expect(acquired.pool.count == 390)
    #expect(acquired.unused.count == data.facts.trainingCount - 100 - 20 - 400)
    // inspect shows a CNN round of 2 vs 8 with the dataset's class names, not MNIST's.
    let inspect = RoundInspection.node(
      plan: plan,
      cell: cnn,
      round: 0,
      resources: ExperimentResources()
    )
    var graph = plan.graph
    try graph.add(inspect)
    try runner.run(graph, recordAs: "fig3-inspect")
    guard case .cached(let key)? = try runner.status(graph)[inspect.id] else {
      Issue.record("the inspect stage did not run")
      return
    }
    let page = try RoundInspection.page(
      plan: plan,
      cell: cnn,
      round: 0,
      inspection: try runner.store.verifiedArtifactURL(key: key, name: "inspection"),
      command: "pipeline inspect fig3-test --cell \(cnn) --round 0"
    )
    #expect(page.classNames == ["2", "8"])
    #expect(page.images.count == 15)
    #expect(page.images.allSatisfy { $0.predictiveMean.count == 2 && (0...1).contains($0.label) })
    #expect(page.labelledCounts == [10, 10])
  }
}

@Test func aDigitsDatasetInADatasetsListKeepsItsDigits() throws {
  let document = try NotebookDocument(
    parsing: """
      # t

      ```dbal-experiment
      acquisitions: bald
      models: bayesian
      datasets: mnist, digits:2,8, repeated:3x0.1
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
  #expect(plan.datasets == [.mnist, .digits([2, 8]), .repeated(copies: 3, noise: 0.1)])
  #expect(
    plan.cells.map(\.description)
      == ["bald.bayesian.r0", "bald.bayesian.digits-2-8.r0", "bald.bayesian.repeated-3x0.1.r0"]
  )
}
