import Acquisition
import Experiments
import Foundation
import PipelineCore
import TestSupport
import Testing

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
      Cell(acquisition: .bald, model: .bayesian, repetition: 0),
      Cell(acquisition: .random, model: .bayesian, repetition: 0),
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
      stages: ["train", "evaluate", "score", "acquire"].map {
        ExperimentPlan.stageID(cells[0], round: 1, $0)
      }
    )
    #expect(replayed.isIdentical)
  }
}
