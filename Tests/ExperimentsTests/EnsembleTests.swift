import Acquisition
import Foundation
import HDF5Store
import NeuralEngine
import Notebook
import PipelineCore
import Reports
import TestSupport
import Testing

@testable import Experiments

/// Uncertainty sources as one concept: the `[S, N, C]` samples of each kind, deep ensembles'
/// disagreement, and ensemble members as ordinary, shared train stages.
struct UncertaintySourceTests {
  /// Random 28 x 28 images in [0, 1]: inputs no network has seen, ambiguous to all.
  static func images(_ count: Int) -> Tensor {
    var generator = SeededGenerator(seed: 99)
    let scalars = (0..<(count * 784)).map { _ in Float(generator.next() >> 40) / 16_777_216 }
    return Tensor(shape: [count, 1, 28, 28], scalars: scalars)
  }

  static func network(seed: UInt64) -> BayesianCNN {
    var generator = SeededGenerator(seed: seed)
    return BayesianCNN(initialisation: .keras03, generator: &generator)
  }

  static func samples(
    _ source: UncertaintySource,
    _ networks: [BayesianCNN],
    mcSamples: Int = 3,
    ensembleDropout: EnsembleDropout = .off,
    images: Tensor = images(7)
  ) throws -> MCProbabilities {
    var generator = SeededGenerator(seed: 5)
    return try PredictiveSamples(
      source: source,
      mcSamples: mcSamples,
      ensembleDropout: ensembleDropout
    ).probabilities(of: networks, images: images, generator: &generator, engine: ComputeEngine())
  }

  @Test func everySourceYieldsSamplesOfShapeSByNByC() throws {
    let one = [Self.network(seed: 1)]
    let three = [1, 2, 3].map { Self.network(seed: $0) }
    let cases: [(UncertaintySource, [BayesianCNN], EnsembleDropout, Int)] = [
      (.deterministic, one, .off, 1),
      (.mcDropout, one, .off, 3),
      (.deepEnsemble, three, .off, 3),
      (.deepEnsemble, three, .mcDropout, 9),
    ]
    for (source, networks, dropout, s) in cases {
      let p = try Self.samples(source, networks, ensembleDropout: dropout)
      #expect((p.passes, p.points, p.classes) == (s, 7, 10), "\(source) \(dropout)")
      #expect(p.values.count == s * 7 * 10)
      #expect(
        source.sampleCount(
          mcSamples: 3,
          ensembleSize: networks.count,
          membersUseMCDropout: dropout == .mcDropout
        ) == s
      )
    }
  }

  @Test func ensembleSamplesAreEachMembersOwnPredictionInMemberOrder() throws {
    let members = [4, 5].map { Self.network(seed: $0) }
    let images = Self.images(5)
    let ensemble = try Self.samples(.deepEnsemble, members, images: images)
    let engine = try ComputeEngine()
    for (m, member) in members.enumerated() {
      let alone = try engine.predictProbabilities(member, images: images).scalars
      #expect(Array(ensemble.values[(m * 50)..<((m + 1) * 50)]) == alone, "member \(m)")
    }
  }

  @Test func identicalMembersHaveBALDExactlyZeroAndDistinctOnesDisagree() throws {
    let identical = try Self.samples(.deepEnsemble, (0..<4).map { _ in Self.network(seed: 8) })
    #expect(AcquisitionFunction.bald.scores(identical).allSatisfy { $0 == 0 })
    let distinct = try Self.samples(.deepEnsemble, (0..<4).map { Self.network(seed: UInt64($0)) })
    let bald = AcquisitionFunction.bald.scores(distinct)
    #expect(bald.allSatisfy { $0 > 1e-4 }, "\(bald)")
  }

  @Test func ensembleSizeBelowTwoAndSamplesBeyondMemoryAreRefusedWithTheKey() throws {
    let cells = [Cell(acquisition: .bald, model: .deepEnsemble, repetition: 0)]
    let one = Profile.smoke.applying([try ProfileOverride(parsing: "ensemble-size=1")])
    #expect {
      _ = try ExperimentPlan(target: "t", profile: one, cells: cells, resources: .init())
    } throws: { "\($0)".contains("ensemble-size=1") && "\($0)".contains("at least 2 members") }
    // A plan without ensemble cells does not care.
    _ = try ExperimentPlan(
      target: "t",
      profile: one,
      cells: [Cell(acquisition: .bald, model: .mcDropout, repetition: 0)],
      resources: .init()
    )
    var p = ExperimentParameters.paper
    p.ensembleDropout = .mcDropout
    #expect {
      try ExperimentPlan.checkEnsemble(p, physicalMemory: 500_000_000)
    } throws: { "\($0)".contains("ensemble-size=5 with ensemble-dropout=mc-dropout") }
    try ExperimentPlan.checkEnsemble(.paper, physicalMemory: 500_000_000)
    // Dropout-off members over the whole pool: 5 x 60,000 x 10 floats are 12 MB.
    var whole = ExperimentParameters.paper
    whole.poolSubset = 0
    #expect {
      try ExperimentPlan.checkEnsemble(whole, physicalMemory: 20_000_000)
    } throws: { "\($0)".contains("ensemble-size=5: ") && "\($0)".contains("smaller pool-subset") }
    // Repeated MNIST's pool is 3 times MNIST's: 36 MB, more than half of 60 MB; MNIST's fits.
    try ExperimentPlan.checkEnsemble(whole, datasets: [.mnist], physicalMemory: 60_000_000)
    #expect {
      try ExperimentPlan.checkEnsemble(
        whole,
        datasets: [.mnist, .repeated(copies: 3, noise: 0.1)],
        physicalMemory: 60_000_000
      )
    } throws: { "\($0)".contains("need 36 MB") }
  }

  @Test func anUnknownSourceInADocumentNamesTheLineAndTheAcceptedOnes() throws {
    #expect {
      try NotebookDocument(
        parsing: "# T\n\n```dbal-experiment\nacquisitions: bald\nmodels: bayesian, swag\n```\n",
        fileName: "t.md"
      )
    } throws: {
      "\($0)".contains("t.md:5") && "\($0)".contains("'swag'")
        && "\($0)".contains("'ensemble'")
    }
  }
}

/// Ensemble members are ordinary train stages: computed once per distinct labelled set and
/// seed, shared between cells, and member 0 is the single network of an MC-dropout cell. In
/// ``SmokeLoopTests``' serialized suite: two in-process loops at once would wait on each other
/// for the two cores' cooperative threads.
extension SmokeLoopTests {
  @Test(.enabled(if: TestSupport.mnistMirror != nil, "needs the MNIST mirror (DBAL_MNIST_MIRROR)"))
  func membersAreCachedAndSharedAcrossAcquisitionFunctions() throws {
    let directory = try TestSupport.temporaryDirectory("dbal-ensemble-sharing")
    defer { try? FileManager.default.removeItem(at: directory) }
    let profile = Profile.smoke.applying([
      try ProfileOverride(parsing: "rounds=1"), try ProfileOverride(parsing: "ensemble-size=3"),
    ])
    let bald = Cell(acquisition: .bald, model: .deepEnsemble, repetition: 0)
    let random = Cell(acquisition: .random, model: .deepEnsemble, repetition: 0)
    let single = Cell(acquisition: .bald, model: .mcDropout, repetition: 0)
    let plan = try ExperimentPlan(
      target: "ensemble-test",
      profile: profile,
      cells: [bald, random, single],
      resources: ExperimentResources()
    )
    let runner = PipelineRunner(
      store: try ArtifactStore(root: directory.appendingPathComponent("cache")),
      toolVersion: "test",
      settings: ["data-dir": directory.path, "mnist-mirror": TestSupport.mnistMirror!.path]
    )
    try runner.run(plan.graph, recordAs: "ensemble-test")
    let statuses = try runner.status(plan.graph)
    func key(_ id: StageID) -> String? {
      if case .cached(let key)? = statuses[id] { return key }
      return nil
    }
    let round0 = (0..<3).map { member in
      (
        bald: key(ExperimentPlan.trainID(bald, round: 0, member: member)),
        random: key(ExperimentPlan.trainID(random, round: 0, member: member))
      )
    }
    for (member, keys) in round0.enumerated() {
      #expect(keys.bald != nil && keys.bald == keys.random, "member \(member) is shared")
    }
    #expect(Set(round0.map(\.bald)).count == 3, "members train from distinct seeds")
    #expect(round0[0].bald == key(ExperimentPlan.stageID(single, round: 0, "train")))
    // After different acquisitions the labelled sets differ, and so do the members.
    #expect(
      key(ExperimentPlan.trainID(bald, round: 1, member: 1))
        != key(ExperimentPlan.trainID(random, round: 1, member: 1))
    )
    // The ensemble's evaluation records its members' accuracies next to the ensemble's.
    let metrics = try HDF5File.open(
      try runner.store.verifiedArtifactURL(
        key: key(ExperimentPlan.stageID(bald, round: 1, "evaluate"))!,
        name: "metrics"
      ).path
    )
    defer { try? metrics.close() }
    let members = try metrics.read("accuracy_members", as: Double.self).values
    #expect(members.count == 3)
    let mean = try metrics.read("accuracy_members_mean", as: Double.self).values[0]
    #expect(isClose(mean, members.reduce(0, +) / 3))
    #expect(try metrics.read("ensemble_size", as: Int64.self).values == [3])
    // The ensemble's calibrate stage reads every member: the same accuracies as its evaluation.
    let calibration = try CalibrationMetrics(
      contentsOf: try runner.store.verifiedArtifactURL(
        key: key(ExperimentPlan.stageID(bald, round: 1, "calibrate"))!,
        name: "calibration"
      )
    )
    #expect(
      calibration.accuracyDeterministic
        == (try metrics.read("accuracy_deterministic", as: Double.self).values[0])
    )
    #expect(calibration.accuracyMC == (try metrics.read("accuracy_mc", as: Double.self).values[0]))
  }
}

/// The `accuracy-at` table: each source by its own metric, partial values labelled, counts
/// the profile cannot reach left out and said so.
struct AccuracyAtTableTests {
  @Test func valuesAreMeansOverTheRepetitionsThatReachedTheCount() throws {
    let profile = Profile.smoke.applying([
      try ProfileOverride(parsing: "rounds=4"), try ProfileOverride(parsing: "repetitions=2"),
    ])
    let cells = [0, 1].flatMap { repetition in
      [UncertaintySource.mcDropout, .deepEnsemble, .deterministic].map {
        Cell(acquisition: .bald, model: $0, repetition: repetition)
      }
    }
    let plan = try ExperimentPlan(
      target: "t",
      profile: profile,
      cells: cells,
      resources: ExperimentResources()
    )
    func point(_ round: Int, mc: Double, off: Double) -> CurvePoint {
      CurvePoint(
        acquired: 10 * round,
        labelled: 20 + 10 * round,
        accuracyMC: mc,
        accuracyDeterministic: off
      )
    }
    var curves: [Cell: [CurvePoint]] = [:]
    for cell in cells {
      // Repetition 1 has finished round 1 only; each source's metric differs from the other.
      let rounds = cell.repetition == 0 ? 0...3 : 0...1
      let base = cell.repetition == 0 ? 0.5 : 0.7
      curves[cell] = rounds.map { point($0, mc: base + 0.01 * Double($0), off: 0.1) }
    }
    let results = ExperimentResults(plan: plan, curves: curves)
    let table = results.accuracyAtTable(acquired: [10, 15, 30, 100])
    // 100 acquired images lie beyond the profile's 40: no column of dashes, a note instead.
    #expect(table.columns.count == 5, "\(table.columns)")
    #expect(
      table.notes.contains("Left out: 100 acquired images, beyond the 40 this profile acquires.")
    )
    let rows = Dictionary(uniqueKeysWithValues: table.rows.map { ($0[1], Array($0[2...])) })
    // MC dropout and the ensemble by their predictive mean: (0.51 + 0.71) / 2 at 10 acquired.
    #expect(rows["Bayesian CNN"]?[0] == "61.00%")
    #expect(rows["Deep ensemble"]?[0] == "61.00%")
    // The deterministic CNN by its dropout-off accuracy.
    #expect(rows["Deterministic CNN"]?[0] == "10.00%")
    #expect(rows["Bayesian CNN"]?[1] == "– (not a multiple of the 10 acquired per round)")
    #expect(rows["Bayesian CNN"]?[2] == "53.00% (1 of 2 repetitions so far)")
    // Every count beyond the profile: its end stands in, and the note says so.
    let beyond = results.accuracyAtTable(acquired: [100, 200])
    #expect(beyond.columns.last == "Test accuracy at 40 acquired", "\(beyond.columns)")
    #expect(beyond.notes.last?.hasSuffix("(its end is shown instead).") == true)
  }
}

/// The paper profile's parameters digest, pinned: reports quote it and run names of `--set`
/// runs carry it, so a change (a new parameter, a changed default) must be deliberate. It last
/// changed when `mc-dropout-masks` and `batchbald-configurations` joined the parameters and
/// the paper's `calibration` went from `off` to `every-10` (no stage key changed: their defaults
/// enter no existing stage's key; calibrate stages are stages of their own).
@Test func thePaperParametersDigestIsPinned() {
  #expect(
    ParameterDigest.of(Profile.paper.parameters)
      == "26a5b5f4e886052e56225ff743b066014dabbfc6c3386f7b596d0b9db1ce4090"
  )
}
