import Acquisition
import Foundation
import MNIST
import NeuralEngine
import PipelineCore
import TestSupport
import Testing

@testable import Experiments

/// Repeated MNIST, BatchBALD's parameters and their bad input, and the score stage's keys.
@Suite struct BatchBALDExperimentTests {
  @Test func datasetVariantsParseAndPrintTheirSpelling() throws {
    #expect(try DatasetVariant(parsing: "mnist") == .mnist)
    let repeated = try DatasetVariant(parsing: "repeated:3x0.1")
    #expect(repeated == .repeated(copies: 3, noise: 0.1))
    #expect(repeated.description == "repeated:3x0.1" && repeated.slug == "repeated-3x0.1")
    #expect(repeated.facts(of: .mnist).trainingCount == 3 * DatasetFacts.mnist.trainingCount)
    #expect(repeated.facts(of: .mnist).testCount == DatasetFacts.mnist.testCount)
    let json = try CanonicalJSONEncoder().encode(repeated)
    #expect(json == "\"repeated:3x0.1\"")
    for (text, message) in [
      ("fashion", "invalid value"), ("repeated:3", "invalid value"),
      ("repeated:0x0.1", "out of range"), ("repeated:3x2", "out of range"),
    ] {
      #expect {
        _ = try ProfileOverride(parsing: "dataset=\(text)")
      } throws: { error in
        "\(error)".contains("dataset") && "\(error)".contains(message)
      }
    }
  }

  @Test func repeatedMNISTRepeatsTheTrainingSplitWithSeededNoise() throws {
    // A tiny stand-in for MNIST: 3 training and 2 test images of 28 x 28.
    let pixels = MNISTDataset.pixelsPerImage
    let base = MNISTDataset(
      trainImages: (0..<(3 * pixels)).map { Float($0 % 256) / 255 },
      trainLabels: [4, 1, 7],
      testImages: [Float](repeating: 0.5, count: 2 * pixels),
      testLabels: [0, 9]
    )
    let variant = DatasetVariant.repeated(copies: 3, noise: 0.1)
    var generator = SeededGenerator(seed: 5)
    let derived = variant.derive(base, generator: &generator)
    #expect(derived.trainLabels == [4, 1, 7, 4, 1, 7, 4, 1, 7])
    #expect(derived.testImages == base.testImages && derived.testLabels == base.testLabels)
    #expect(derived.variant == "repeated:3x0.1")
    let noise = derived.trainImages.indices.map {
      Double(derived.trainImages[$0] - base.trainImages[$0 % base.trainImages.count])
    }
    let mean = noise.reduce(0, +) / Double(noise.count)
    let std = (noise.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(noise.count))
      .squareRoot()
    #expect(abs(mean) < 0.005 && abs(std - 0.1) < 0.005, "noise mean \(mean), std \(std)")
    // The copies of one image differ (each has its own noise); the same seed, the same file.
    #expect(derived.trainImages[0..<pixels] != derived.trainImages[(3 * pixels)..<(4 * pixels)])
    var again = SeededGenerator(seed: 5)
    #expect(variant.derive(base, generator: &again) == derived)
    // The file keeps the layout; its counts are read from it, not expected to be MNIST's.
    let url = try TestSupport.temporaryDirectory("dbal-variant").appendingPathComponent("r.h5")
    try derived.write(to: url.path)
    let loaded = try MNISTTensors(contentsOf: url)
    #expect(loaded.facts.trainingCount == 9 && loaded.facts.testCount == 2)
    #expect(loaded.trainImages == derived.trainImages)
  }

  @Test func subsetsOfRepeatedMNISTHoldWholeGroupsOfCopies() throws {
    // 4 images x 3 copies; index 2 (copy 0 of image 2) is labelled, so its group has two.
    let pool = (0..<12).filter { $0 != 2 }
    var generator = SeededGenerator(seed: 1)
    let subset = try ScoreStage.subsetOfCopies(
      pool: pool,
      size: 5,
      copies: 3,
      trainingCount: 12,
      generator: &generator
    )
    #expect(subset.count == 5 && Set(subset).isSubset(of: Set(pool)))
    let groups = Dictionary(grouping: subset) { $0 % 4 }
    // Whole groups first: at most one group is cut short.
    #expect(groups.values.filter { $0.count < (($0[0] % 4) == 2 ? 2 : 3) }.count <= 1)
  }

  @Test func badInputNamesTheKeyAndTheLimit() throws {
    let cells = [Cell(acquisition: .batchBALD, model: .mcDropout, repetition: 0)]
    func plan(_ overrides: [String]) throws {
      _ = try ExperimentPlan(
        target: "t",
        profile: Profile.smoke.applying(try overrides.map { try ProfileOverride(parsing: $0) }),
        cells: cells,
        resources: ExperimentResources()
      )
    }
    #expect {
      try plan(["mc-samples=1"])
    } throws: { "\($0)".contains("mc-samples=1") && "\($0)".contains("at least 2") }
    #expect {
      try plan(["pool-subset=5"])
    } throws: { "\($0)".contains("acquire-count 10") && "\($0)".contains("pool-subset 5") }
    #expect {
      try plan(["batchbald-configurations=0"])
    } throws: { "\($0)".contains("batchbald-configurations") && "\($0)".contains("1...1000000") }
    // Consistent masks asked for BALD with one pass.
    #expect {
      _ = try ExperimentPlan(
        target: "t",
        profile: Profile.smoke.applying([
          try ProfileOverride(parsing: "mc-dropout-masks=consistent"),
          try ProfileOverride(parsing: "mc-samples=1"),
        ]),
        cells: [Cell(acquisition: .bald, model: .mcDropout, repetition: 0)],
        resources: ExperimentResources()
      )
    } throws: { "\($0)".contains("mc-dropout-masks=consistent") && "\($0)".contains("mc-samples") }
  }

  @Test func scoreKeysOfExistingCellsAreUnchanged() throws {
    // BALD with independent masks on MNIST: exactly the four fields it always had.
    let bald = ScoreStage.Parameters(
      function: .bald,
      model: .mcDropout,
      mcSamples: 100,
      poolSubset: 2000,
      singlePassVariationRatios: .leastConfidence,
      masks: .independent,
      batch: 10,
      configurations: 1000,
      dataset: .mnist
    )
    #expect(
      try CanonicalJSONEncoder().encode(bald)
        == #"{"function":"bald","mcSamples":100,"model":"bayesian","poolSubset":2000}"#
    )
    let batch = ScoreStage.Parameters(
      function: .batchBALD,
      model: .mcDropout,
      mcSamples: 100,
      poolSubset: 2000,
      singlePassVariationRatios: .leastConfidence,
      batch: 10,
      configurations: 1000,
      dataset: .repeated(copies: 3, noise: 0.1)
    )
    #expect(batch.masks == .consistent && batch.batch == 10 && batch.copies == 3)
  }
}

/// A BatchBALD loop on real MNIST: the acquire stage takes the batch the score stage chose. In
/// ``SmokeLoopTests``' serialized suite (two in-process loops at once would deadlock).
extension SmokeLoopTests {
  @Test(.enabled(if: TestSupport.mnistMirror != nil, "needs the MNIST mirror (DBAL_MNIST_MIRROR)"))
  func batchBALDAcquiresTheBatchItChose() throws {
    let directory = try TestSupport.temporaryDirectory("dbal-batchbald-loop")
    defer { try? FileManager.default.removeItem(at: directory) }
    let profile = Profile.smoke.applying([
      try ProfileOverride(parsing: "rounds=1"), try ProfileOverride(parsing: "calibration=off"),
      try ProfileOverride(parsing: "batchbald-configurations=100"),
    ])
    let cell = Cell(acquisition: .batchBALD, model: .mcDropout, repetition: 0)
    let plan = try ExperimentPlan(
      target: "batchbald-test",
      profile: profile,
      cells: [cell],
      resources: ExperimentResources()
    )
    let runner = PipelineRunner(
      store: try ArtifactStore(root: directory.appendingPathComponent("cache")),
      toolVersion: "test",
      settings: ["data-dir": directory.path, "mnist-mirror": TestSupport.mnistMirror!.path]
    )
    try runner.run(plan.graph, recordAs: "batchbald-test")
    let statuses = try runner.status(plan.graph)
    func artifact(_ kind: String, _ name: String) throws -> URL {
      guard case .cached(let key)? = statuses[ExperimentPlan.stageID(cell, round: 0, kind)] else {
        throw CancellationError()
      }
      return try runner.store.verifiedArtifactURL(key: key, name: name)
    }
    let scores = try PoolScores(contentsOf: try artifact("score", "scores"))
    let next = try LabelledSet(contentsOf: try artifact("acquire", "labelled"))
    let batch = try #require(scores.batch)
    #expect(batch.count == 10 && Set(batch).count == 10)
    #expect(next.acquired == batch && next.acquiredScores == scores.batchGains)
    // Its first pick is the subset's best BALD score, and its gain that score.
    let best = scores.scores.max()!
    #expect(scores.scores[scores.subset.firstIndex(of: batch[0])!] == best)
    #expect(scores.batchGains?.first == best)
  }
}
