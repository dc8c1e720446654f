import Acquisition
import Foundation
import HDF5Store
import Notebook
import PipelineCore
import Reports
import TestSupport
import Testing

@testable import Experiments

/// Runs a small real active-learning loop (smoke profile, real MNIST) in-process and checks
/// the bookkeeping invariants of every round.
@Suite(.serialized)
struct SmokeLoopTests {
  @Test(.enabled(if: TestSupport.mnistMirror != nil, "needs the MNIST mirror (DBAL_MNIST_MIRROR)"))
  func labelledSetGrowsByKDisjointAndCoveringAndRoundsReplayBitForBit() throws {
    let directory = try TestSupport.temporaryDirectory("dbal-smoke-loop")
    defer { try? FileManager.default.removeItem(at: directory) }
    let profile = Profile.smoke.applying([try ProfileOverride(parsing: "rounds=3")])
    let cells = [
      Cell(acquisition: .bald, model: .mcDropout, repetition: 0),
      Cell(acquisition: .random, model: .mcDropout, repetition: 0),
    ]
    let plan = try ExperimentPlan(
      target: "loop-test",
      profile: profile,
      cells: cells,
      resources: ExperimentResources()
    )
    let runner = PipelineRunner(
      store: try ArtifactStore(root: directory.appendingPathComponent("cache")),
      toolVersion: "test",
      settings: [
        "data-dir": directory.path, "mnist-mirror": TestSupport.mnistMirror!.path,
      ]
    )
    let summary = try runner.run(plan.graph, recordAs: "loop-test")
    #expect(summary.executed.count + summary.cached.count == plan.graph.nodes.count)
    let statuses = try runner.status(plan.graph)
    func artifact(_ id: StageID, _ name: String) throws -> URL {
      guard case .cached(let key)? = statuses[id] else {
        Issue.record("\(id) is not committed")
        throw CancellationError()
      }
      return try runner.store.verifiedArtifactURL(key: key, name: name)
    }
    let k = profile.parameters.acquireCount
    for cell in cells {
      var previous = try LabelledSet(
        contentsOf: try artifact(ExperimentPlan.splitID(repetition: 0), "labelled")
      )
      #expect(previous.labelled.count == 20)
      for round in 0..<profile.parameters.rounds {
        let next = try LabelledSet(
          contentsOf: try artifact(
            ExperimentPlan.stageID(cell, round: round, "acquire"),
            "labelled"
          )
        )
        #expect(next.labelled.count == previous.labelled.count + k, "\(cell) round \(round)")
        #expect(next.acquired.count == k)
        #expect(Set(next.acquired).isSubset(of: Set(previous.pool)), "acquired from the pool")
        #expect(
          Set(next.acquired).isDisjoint(with: Set(next.pool)),
          "acquired points leave the pool"
        )
        #expect(next.validation == previous.validation)
        try next.validate(trainingCount: 60_000, file: "\(cell) round \(round)")
        previous = next
      }
    }
    // Every round's calibrate stage saw the evaluation's predictions: the same accuracies and
    // test images, with metrics in range and 15 ECE bins; the results carry them.
    let results = try ExperimentResults(plan: plan) { id, name in
      guard case .cached(let key)? = statuses[id] else { return nil }
      return try runner.store.verifiedArtifactURL(key: key, name: name)
    }
    for cell in cells {
      for round in 0...profile.parameters.rounds {
        let evaluation = try EvaluationMetrics(
          contentsOf: try artifact(
            ExperimentPlan.stageID(cell, round: round, "evaluate"),
            "metrics"
          )
        )
        let calibration = try CalibrationMetrics(
          contentsOf: try artifact(
            ExperimentPlan.stageID(cell, round: round, "calibrate"),
            "calibration"
          )
        )
        #expect(calibration.accuracyMC == evaluation.accuracyMC, "\(cell) round \(round)")
        #expect(calibration.accuracyDeterministic == evaluation.accuracyDeterministic)
        #expect(calibration.testCount == evaluation.testCount)
        #expect(calibration.eceBins == 15)
        for m in [calibration.mc, calibration.deterministic] {
          #expect((0...1).contains(m.expectedCalibrationError))
          #expect((0...2).contains(m.brierScore))
          #expect(m.negativeLogLikelihood > 0 && m.negativeLogLikelihood.isFinite)
        }
        let point = try #require(results.curves[cell]?[round])
        #expect(
          point.calibrationMC?.expectedCalibrationError == calibration.mc.expectedCalibrationError
        )
        #expect(point.calibrationDeterministic?.brierScore == calibration.deterministic.brierScore)
      }
    }
    let calibrationFigure = try #require(results.calibrationFigure(like: nil))
    #expect(calibrationFigure.quantity == .expectedCalibrationError)
    #expect(calibrationFigure.panels.flatMap(\.series).count == cells.count)
    // BALD and Random start from the same split and round-0 model but must diverge.
    let bald = try LabelledSet(
      contentsOf: try artifact(ExperimentPlan.stageID(cells[0], round: 0, "acquire"), "labelled")
    )
    let random = try LabelledSet(
      contentsOf: try artifact(ExperimentPlan.stageID(cells[1], round: 0, "acquire"), "labelled")
    )
    #expect(bald.acquired != random.acquired)
    // Same inputs and seed give the same acquisitions: replay a round bit for bit.
    let replayed = try runner.replay(
      plan.graph,
      stages: ["train", "evaluate", "calibrate", "score", "acquire"].map {
        ExperimentPlan.stageID(cells[0], round: 1, $0)
      }
    )
    #expect(replayed.isIdentical)
  }

  // Figure 2 at the smoke profile, in-process, with a two-value weight-decay grid: each model is
  // plotted with its own metric, and each round keeps the c with the best validation accuracy.
  // In this serialized suite because in-process runs block a cooperative thread while MNIST is
  // fetched; two at once could take both threads of a 2-core machine.
  @Test(.enabled(if: TestSupport.mnistMirror != nil, "needs the MNIST mirror (DBAL_MNIST_MIRROR)"))
  func deterministicSeriesPlotDropoutOffAccuracyAndTheGridKeepsTheBestC() throws {
    let directory = try TestSupport.temporaryDirectory("dbal-smoke-fig2")
    defer { try? FileManager.default.removeItem(at: directory) }
    let document = try NotebookDocument(
      contentsOf: TestSupport.repositoryRoot.appendingPathComponent("Pipelines/fig2.md")
    )
    let plan = try ExperimentPlan(
      document: document,
      profile: .smoke,
      overrides: ["rounds=1", "weight-decay-grid=0.5,50"].map { try ProfileOverride(parsing: $0) },
      resources: ExperimentResources()
    )
    let runner = PipelineRunner(
      store: try ArtifactStore(root: directory.appendingPathComponent("cache")),
      toolVersion: "test",
      settings: ["data-dir": directory.path, "mnist-mirror": TestSupport.mnistMirror!.path]
    )
    _ = try runner.run(plan.graph, recordAs: "fig2-smoke")
    let statuses = try runner.status(plan.graph)
    let results = try ExperimentResults(plan: plan) { id, name in
      guard case .cached(let key)? = statuses[id] else { return nil }
      return try runner.store.verifiedArtifactURL(key: key, name: name)
    }
    #expect(results.isComplete)
    let figure = results.figure(try #require(document.figures.first))
    for panel in figure.panels {
      let byMetric = Dictionary(grouping: panel.series, by: \.metric)
      #expect(byMetric[.mc]?.map(\.configuration).allSatisfy { $0.hasSuffix(".bayesian") } == true)
      #expect(
        byMetric[.deterministic]?.map(\.configuration)
          .allSatisfy { $0.hasSuffix(".deterministic") } == true
      )
    }
    let baldPanel = try #require(figure.panels.first { $0.title == "BALD" })
    #expect(baldPanel.series[1].label.contains("random selection"))
    let values = results.values
    let point = try #require(
      results.curves[Cell(acquisition: .maxEntropy, model: .deterministic, repetition: 0)]?.last
    )
    #expect(
      values["final.det.max-entropy.deterministic"]
        == String(format: "%.2f%%", 100 * point.accuracyDeterministic)
    )
    // The deterministic CNN (a point mass) is evaluated with its dropout-off pass only: its
    // predictive-mean accuracy is that pass's, and its calibration, which still runs the MC
    // passes as a comparison, saw the same dropout-off predictions.
    for cell in plan.cells where cell.model == .deterministic {
      for round in 0...plan.profile.parameters.rounds {
        let evaluate = ExperimentPlan.stageID(cell, round: round, "evaluate")
        let stage = try #require(plan.graph[evaluate]?.stage as? EvaluateStage)
        #expect(stage.parameters.mcSamples == 0)
        let point = try #require(results.curves[cell]?[round])
        #expect(point.accuracyMC == point.accuracyDeterministic, "\(cell) round \(round)")
        let calibrate = ExperimentPlan.stageID(cell, round: round, "calibrate")
        // The smoke profile calibrates every round.
        guard case .cached(let key)? = statuses[calibrate] else {
          Issue.record("\(calibrate) is not committed")
          continue
        }
        let calibration = try CalibrationMetrics(
          contentsOf: try runner.store.verifiedArtifactURL(key: key, name: "calibration")
        )
        #expect(calibration.accuracyDeterministic == point.accuracyDeterministic)
        let calibrateStage = try #require(plan.graph[calibrate]?.stage as? CalibrateStage)
        #expect(calibrateStage.parameters.mcSamples == plan.profile.parameters.testMCSamples)
      }
    }
    // The grid: every round's model records the c it kept, which has the best validation score.
    let train = ExperimentPlan.stageID(plan.cells[0], round: 0, "train")
    guard case .cached(let key)? = statuses[train] else {
      Issue.record("round 0 is not committed")
      return
    }
    let file = try HDF5File.open(try runner.store.verifiedArtifactURL(key: key, name: "model").path)
    defer { try? file.close() }
    let grid = try file.read("weight_decay_grid", as: Double.self).values
    let accuracy = try file.read("validation_accuracy", as: Double.self).values
    let crossEntropy = try file.read("validation_cross_entropy", as: Double.self).values
    let chosen = try file.read("weight_decay", as: Double.self).values[0]
    #expect(grid == [0.5, 50])
    let best = TrainStage.selectBest(
      zip(accuracy, crossEntropy).map { ValidationScore(accuracy: $0, crossEntropy: $1) }
    )
    #expect(chosen == grid[best])
    #expect(
      results.curves.values.allSatisfy { $0.allSatisfy { grid.contains($0.weightDecay ?? -1) } }
    )
  }
}
