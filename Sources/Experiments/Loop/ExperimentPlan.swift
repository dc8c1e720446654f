import Acquisition
import Foundation
import MNIST
import NeuralEngine
import Notebook
import PipelineCore

/// A target's experiment, resolved: its profile, its cells, and the stage graph that computes
/// them.
///
/// Per cell and round r = 0...rounds: `train` (fresh model on the labelled set) -> `evaluate`
/// (test accuracy) and `calibrate` (test NLL, Brier score, ECE of the same predictions); and for r < rounds: `score` (a fresh pool subset) -> `acquire` (top-K) ->
/// the labelled set of round r + 1. Rounds are chained through the labelled set's content
/// digest, so a resumed or replayed round sees exactly the same inputs. Seeds derive from the
/// root seed and (purpose, repetition, round) only, so cells that share inputs share cache
/// entries: round 0 is trained once per repetition for all acquisition functions and models.
public struct ExperimentPlan: Sendable {
  /// The target's name (the document's file name without `.md`).
  public let target: String
  /// The profile, with the document's and the command line's overrides applied.
  public let profile: Profile
  /// The cells, sorted.
  public let cells: [Cell]
  /// The acquisition functions, in the document's order (panels and rows follow it).
  public let acquisitions: [AcquisitionFunction]
  /// The model kinds, in the document's order.
  public let models: [UncertaintySource]
  /// The datasets, in the document's order (one, the `dataset` parameter, unless the
  /// document lists several).
  public let datasets: [DatasetVariant]
  /// The stage graph.
  public let graph: PipelineGraph

  /// The id of the stage that writes the preprocessed MNIST file.
  public static let preprocessID: StageID = "mnist/preprocess"
  /// The id of the download stage.
  public static let downloadID: StageID = "mnist/download"

  /// Resolves `document`'s experiment under `profile` plus command-line `overrides`.
  public init(
    document: NotebookDocument,
    profile base: Profile,
    overrides: [ProfileOverride],
    resources: ExperimentResources
  ) throws {
    let block = document.experiment
    var documentOverrides: [ProfileOverride] = []
    do throws(ExperimentError) {
      if let validation = block.validationSize {
        documentOverrides.append(try ProfileOverride(parsing: "validation=\(validation)"))
      }
      if let repetitions = block.repetitions {
        documentOverrides.append(try ProfileOverride(parsing: "repetitions=\(repetitions)"))
      }
      for setting in block.overrides {
        documentOverrides.append(try ProfileOverride(parsing: "\(setting.name)=\(setting.value)"))
      }
    } catch {
      throw ExperimentError.inDocument(file: document.fileName, line: block.line, error)
    }
    let profile = base.applying(documentOverrides + overrides)
    let acquisitions = block.acquisitions
    let models = block.models
    var datasets: [DatasetVariant] = []
    do throws(ExperimentError) {
      // A list item of digits continues the `digits:` item before it: `datasets: mnist,
      // digits:2,8` lists two datasets, as `set:` values continue over commas.
      var names: [String] = []
      for item in block.datasets {
        if let last = names.last, last.hasPrefix("digits:"), item.allSatisfy(\.isNumber) {
          names[names.count - 1] += ",\(item)"
        } else {
          names.append(item)
        }
      }
      for name in names {
        let variant = try DatasetVariant(parsing: name)
        if !datasets.contains(variant) { datasets.append(variant) }
      }
    } catch {
      throw ExperimentError.inDocument(file: document.fileName, line: block.line, error)
    }
    if datasets.isEmpty { datasets = [profile.parameters.dataset] }
    var cells: [Cell] = []
    // Every pair of the grid that can run is a cell: `mbr` pairs with `harmonic` only.
    for name in acquisitions.map(\.rawValue) + models.map(\.rawValue) {
      guard
        acquisitions.contains(where: { a in
          models.contains { m in m.supports(a) && name == a.rawValue }
        })
          || models.contains(where: { m in
            acquisitions.contains { a in m.supports(a) && name == m.rawValue }
          })
      else {
        throw ExperimentError.inDocument(
          file: document.fileName,
          line: block.line,
          .infeasible(
            "\(name) pairs with nothing in this grid: acquisition mbr runs only with model "
              + "harmonic, and harmonic only with mbr; add its partner or remove it"
          )
        )
      }
    }
    for repetition in 0..<profile.parameters.repetitions {
      for dataset in datasets {
        for acquisition in acquisitions {
          for model in models where model.supports(acquisition) {
            cells.append(
              Cell(acquisition: acquisition, model: model, repetition: repetition, dataset: dataset)
            )
          }
        }
      }
    }
    try self.init(target: document.name, profile: profile, cells: cells, resources: resources)
  }

  /// Builds the plan for explicit cells (tests, benchmarks).
  public init(
    target: String,
    profile: Profile,
    cells: [Cell],
    resources: ExperimentResources
  )
    throws
  {
    let p = profile.parameters
    if let cell = cells.first(where: { !$0.model.supports($0.acquisition) }) {
      throw ExperimentError.infeasible(
        "cell \(cell): acquisition mbr runs only with model harmonic, and harmonic only with mbr"
      )
    }
    for dataset in Set(cells.map(\.dataset)) {
      let facts = dataset.declaredFacts
      let remaining = facts.trainingCount - p.validation - p.initialLabelled
      guard p.poolSize <= remaining else {
        throw ExperimentError.infeasible(
          "pool-size=\(p.poolSize) exceeds the \(remaining) training images of \(dataset) left "
            + "after validation and the initial set; set pool-size to at most \(remaining), or 0 "
            + "for all"
        )
      }
      let poolSize = p.poolSize > 0 ? p.poolSize : remaining
      guard p.totalAcquired <= poolSize else {
        throw ExperimentError.infeasible(
          "\(p.rounds) rounds x \(p.acquireCount) = \(p.totalAcquired) acquisitions exceed the "
            + "pool of \(poolSize) images"
        )
      }
      if cells.contains(where: { $0.model == .harmonic && $0.dataset == dataset }) {
        try HarmonicGraphStage.requireBinary(facts)
      }
    }
    try Self.checkConsistentScoring(p, cells: cells)
    guard p.poolSubset == 0 || p.poolSubset >= p.acquireCount else {
      throw ExperimentError.infeasible(
        "pool-subset \(p.poolSubset) is smaller than acquire-count \(p.acquireCount), so a round "
          + "could not acquire \(p.acquireCount) images; raise pool-subset (0 = the whole pool)"
      )
    }
    let ensembleDatasets = Set(cells.filter { $0.model == .deepEnsemble }.map(\.dataset))
    if !ensembleDatasets.isEmpty {
      try Self.checkEnsemble(p, datasets: ensembleDatasets)
    }
    guard p.weightDecayGrid.isEmpty || p.validation > 0 else {
      throw ExperimentError.infeasible(
        "weight-decay-grid tunes c on the validation set, but validation is 0; set validation "
          + "to a positive number (the paper: 100) or weight-decay-grid=none"
      )
    }
    self.target = target
    self.profile = profile
    self.cells = cells.sorted()
    var acquisitions: [AcquisitionFunction] = []
    var models: [UncertaintySource] = []
    var datasets: [DatasetVariant] = []
    for cell in cells {
      if !acquisitions.contains(cell.acquisition) { acquisitions.append(cell.acquisition) }
      if !models.contains(cell.model) { models.append(cell.model) }
      if !datasets.contains(cell.dataset) { datasets.append(cell.dataset) }
    }
    self.acquisitions = acquisitions
    self.models = models
    self.datasets = datasets
    var graph = PipelineGraph()
    try Self.addData(to: &graph)
    for dataset in datasets where dataset != .mnist {
      try graph.add(
        StageNode(
          id: Self.dataID(dataset),
          stage: DatasetVariantStage(variant: dataset),
          inputs: ["data": .artifact(Self.preprocessID, "mnist")],
          seed: SeededGenerator.derive(
            root: UInt64(p.seed),
            path: [.name("dataset"), .name(dataset.description)]
          ),
          group: "mnist"
        )
      )
    }
    for repetition in Set(cells.map(\.repetition)).sorted() {
      for dataset in datasets {
        try graph.add(
          StageNode(
            id: Self.splitID(repetition: repetition, dataset: dataset),
            stage: SplitStage(
              parameters: .init(
                validation: p.validation,
                initialPerClass: p.initialPerClass,
                poolSize: p.poolSize == 0 ? nil : p.poolSize
              ),
              resources: resources
            ),
            inputs: ["data": Self.dataInput(dataset)],
            seed: Self.seed(p, "split", repetition),
            group: "r\(repetition)"
          )
        )
      }
    }
    for cell in self.cells {
      if cell.model == .harmonic {
        try Self.addHarmonicRounds(of: cell, parameters: p, to: &graph, resources: resources)
      } else {
        try Self.addRounds(of: cell, parameters: p, to: &graph, resources: resources)
      }
    }
    self.graph = graph
  }

  /// A deep ensemble needs two members or more, and its probability samples must fit in
  /// memory (half of this machine's, leaving the rest to the engine and the system) on each of
  /// the `datasets` its cells run on (Repeated MNIST's pool is `copies` times MNIST's).
  static func checkEnsemble(
    _ p: ExperimentParameters,
    datasets: Set<DatasetVariant> = [.mnist],
    physicalMemory: UInt64 = ProcessInfo.processInfo.physicalMemory
  ) throws {
    for dataset in datasets.sorted(by: { $0.description < $1.description }) {
      try checkEnsemble(p, facts: dataset.declaredFacts, physicalMemory: physicalMemory)
    }
  }

  private static func checkEnsemble(
    _ p: ExperimentParameters,
    facts: DatasetFacts,
    physicalMemory: UInt64
  ) throws {
    guard p.ensembleSize >= 2 else {
      throw ExperimentError.infeasible(
        "ensemble-size=\(p.ensembleSize): a deep ensemble needs at least 2 members (Beluch et "
          + "al. 2018 use 5); set ensemble-size to 2 or more"
      )
    }
    let mc = p.ensembleDropout == .mcDropout
    let scoring =
      p.ensembleSize * (mc ? p.mcSamples : 1)
      * (p.poolSubset == 0 ? facts.trainingCount : p.poolSubset)
    let tested = p.testSubset == 0 ? facts.testCount : p.testSubset
    let evaluation = p.ensembleSize * (mc ? p.testMCSamples : 1) * tested
    // Float32 probabilities per class; evaluation holds the dropout-off ones as well.
    let bytes =
      UInt64(max(scoring, evaluation + p.ensembleSize * tested)) * UInt64(facts.classCount) * 4
    guard bytes <= physicalMemory / 2 else {
      throw ExperimentError.infeasible(
        "ensemble-size=\(p.ensembleSize)\(mc ? " with ensemble-dropout=mc-dropout" : ""): its "
          + "probability samples need \(bytes / 1_000_000) MB, more than half of this machine's "
          + "\(physicalMemory / 1_000_000) MB; use fewer members"
          + (mc ? ", fewer MC samples or ensemble-dropout=off" : " or a smaller pool-subset")
      )
    }
  }

  /// Consistent MC dropout (BatchBALD's, or asked for with `mc-dropout-masks=consistent`)
  /// needs two passes or more, and BatchBALD a configuration budget of at least one.
  static func checkConsistentScoring(_ p: ExperimentParameters, cells: [Cell]) throws {
    let joint = cells.contains { $0.acquisition.choosesBatchJointly }
    if let cell = cells.first(where: {
      $0.acquisition.choosesBatchJointly
        && ($0.model == .deterministic || ($0.model == .deepEnsemble && p.ensembleDropout == .off))
    }) {
      throw ExperimentError.infeasible(
        "\(cell.configuration): BatchBALD needs T consistent MC-dropout passes, but "
          + "\(cell.model.rawValue) predicts with dropout off; use models: bayesian (or an "
          + "ensemble with ensemble-dropout=mc-dropout)"
      )
    }
    let consistent =
      joint || (p.mcDropoutMasks == .consistent && cells.contains { $0.model != .deterministic })
    guard !consistent || p.mcSamples >= 2 else {
      throw ExperimentError.infeasible(
        "mc-samples=\(p.mcSamples): consistent MC dropout ("
          + (joint ? "BatchBALD's" : "mc-dropout-masks=consistent")
          + ") needs at least 2 passes, since one shared mask gives every point the same single "
          + "weight sample; set mc-samples to 2 or more (the paper: 100)"
      )
    }
    guard !joint || p.batchBALDConfigurations >= 1 else {
      throw ExperimentError.infeasible(
        BatchBALD.Failure.emptyBudget(p.batchBALDConfigurations).description
      )
    }
  }

  // MARK: - Stage ids

  /// The split stage of a repetition.
  public static func splitID(repetition: Int) -> StageID { StageID("splits/r\(repetition)") }

  /// The split stage of a repetition on `dataset` (MNIST's is ``splitID(repetition:)``).
  public static func splitID(repetition: Int, dataset: DatasetVariant) -> StageID {
    dataset == .mnist
      ? splitID(repetition: repetition) : StageID("splits/\(dataset.slug)/r\(repetition)")
  }

  /// The stage that writes `dataset`'s file (MNIST's is the preprocess stage).
  public static func dataID(_ dataset: DatasetVariant) -> StageID {
    dataset == .mnist ? preprocessID : StageID("mnist/\(dataset.slug)")
  }

  /// The input that carries `dataset`'s file.
  static func dataInput(_ dataset: DatasetVariant) -> StageInput {
    .artifact(dataID(dataset), "mnist")
  }

  /// The group of a cell's calibrate stages (`bald.bayesian.r0/calibration`): apart from the
  /// cell's own group, so that `status` and the progress of a cell count its rounds by the
  /// stages that make its learning curve, and a cell whose rounds were all computed before
  /// calibration existed still reads as cached, with its calibration on a line of its own.
  public static func calibrationGroup(_ cell: Cell) -> String { "\(cell)/calibration" }

  /// The stage `kind` (train, evaluate, calibrate, score, acquire) of `cell` in `round`.
  public static func stageID(_ cell: Cell, round: Int, _ kind: String) -> StageID {
    StageID("cells/\(cell)/round-\(String(format: "%03d", round))/\(kind)")
  }

  /// The train stage of ensemble member `member` (0 is the cell's `train` stage, which every
  /// source has; members 1... are `train-member-1`, ...).
  public static func trainID(_ cell: Cell, round: Int, member: Int) -> StageID {
    stageID(cell, round: round, member == 0 ? "train" : "train-member-\(member)")
  }

  /// The seed of ensemble member `member`'s training: member 0 trains from the seed of the
  /// round's single network (so it is the network an MC-dropout cell with the same labelled
  /// set trains, computed once), members 1... from the position (train, repetition, round,
  /// member).
  static func trainSeed(
    _ p: ExperimentParameters,
    repetition: Int,
    round: Int,
    member: Int
  ) -> UInt64 {
    member == 0
      ? seed(p, "train", repetition, round)
      : SeededGenerator.derive(
        root: UInt64(p.seed),
        path: [.name("train"), .index(repetition), .index(round), .index(member)]
      )
  }

  /// Where the labelled set used in `round` of `cell` comes from.
  static func labelledInput(_ cell: Cell, round: Int) -> StageInput {
    round == 0
      ? .artifact(splitID(repetition: cell.repetition, dataset: cell.dataset), "labelled")
      : .artifact(stageID(cell, round: round - 1, "acquire"), "labelled")
  }

  /// The seed of one purpose in one round of one repetition; independent of the acquisition
  /// function and model kind on purpose (paired comparisons, shared round-0 work).
  static func seed(
    _ p: ExperimentParameters,
    _ purpose: String,
    _ repetition: Int,
    _ round: Int = 0
  )
    -> UInt64
  {
    SeededGenerator.derive(
      root: UInt64(p.seed),
      path: [.name(purpose), .index(repetition), .index(round)]
    )
  }

  // MARK: - Graph construction

  /// The graph of the data stages alone (download, preprocess), for `pipeline fetch mnist`.
  public static func dataGraph() throws -> PipelineGraph {
    var graph = PipelineGraph()
    try addData(to: &graph)
    return graph
  }

  static func addData(to graph: inout PipelineGraph) throws {
    try graph.add(StageNode(id: downloadID, stage: DownloadStage(), group: "mnist"))
    try graph.add(
      StageNode(
        id: preprocessID,
        stage: PreprocessStage(),
        inputs: ["raw": .artifact(downloadID, "raw")],
        group: "mnist"
      )
    )
  }

  /// The harmonic-function graph of a repetition on `dataset` (its Laplacian's inverse).
  public static func harmonicGraphID(repetition: Int, dataset: DatasetVariant) -> StageID {
    StageID("harmonic/\(dataset.slug)/r\(repetition)/graph")
  }

  /// The rounds of a harmonic-function cell (the Minimum Bayes Risk baseline): per round a
  /// `train` stage that applies the round's labels to the repetition's graph inverse and
  /// computes the field and each pool point's expected risk, `evaluate` (test accuracy of the
  /// field), and for r < rounds `score` (MBR on a fresh pool subset) and `acquire` (top-K),
  /// seeded like every other cell.
  static func addHarmonicRounds(
    of cell: Cell,
    parameters p: ExperimentParameters,
    to graph: inout PipelineGraph,
    resources: ExperimentResources
  ) throws {
    let data = dataInput(cell.dataset)
    let group = cell.description
    let testSubsetSeed = SeededGenerator.derive(root: UInt64(p.seed), path: [.name("test-subset")])
    let graphID = harmonicGraphID(repetition: cell.repetition, dataset: cell.dataset)
    if graph[graphID] == nil {
      try graph.add(
        StageNode(
          id: graphID,
          stage: HarmonicGraphStage(
            parameters: .init(
              sigma: p.rbfSigma,
              testSubset: p.testSubset,
              testSubsetSeed: p.testSubset == 0 ? 0 : testSubsetSeed
            ),
            resources: resources
          ),
          inputs: [
            "data": data,
            "labelled": .artifact(
              splitID(repetition: cell.repetition, dataset: cell.dataset),
              "labelled"
            ),
          ],
          group: "r\(cell.repetition)"
        )
      )
    }
    for round in 0...p.rounds {
      let field = stageID(cell, round: round, "train")
      try graph.add(
        StageNode(
          id: field,
          stage: HarmonicFieldStage(parameters: .init(sigma: p.rbfSigma), resources: resources),
          inputs: [
            "data": data, "graph": .artifact(graphID, "graph"),
            "labelled": labelledInput(cell, round: round),
          ],
          group: group,
          round: round
        )
      )
      try graph.add(
        StageNode(
          id: stageID(cell, round: round, "evaluate"),
          stage: HarmonicEvaluateStage(
            parameters: .init(prediction: p.harmonicPrediction),
            resources: resources
          ),
          inputs: ["data": data, "field": .artifact(field, "field")],
          group: group,
          round: round
        )
      )
      guard round < p.rounds else { break }
      let score = stageID(cell, round: round, "score")
      try graph.add(
        StageNode(
          id: score,
          stage: MinimumBayesRiskScoreStage(parameters: .init(poolSubset: p.poolSubset)),
          inputs: [
            "field": .artifact(field, "field"), "labelled": labelledInput(cell, round: round),
          ],
          seed: seed(p, "score", cell.repetition, round),
          group: group,
          round: round
        )
      )
      try graph.add(acquireNode(cell, round: round, scores: score, parameters: p))
    }
  }

  /// The parameters of `cell`'s score stages.
  static func scoreParameters(_ cell: Cell, _ p: ExperimentParameters) -> ScoreStage.Parameters {
    ScoreStage.Parameters(
      function: cell.acquisition,
      model: cell.model,
      mcSamples: p.mcSamples,
      poolSubset: p.poolSubset,
      singlePassVariationRatios: p.deterministicVarRatios,
      ensembleSize: p.ensembleSize,
      ensembleDropout: p.ensembleDropout,
      masks: p.mcDropoutMasks,
      batch: p.acquireCount,
      configurations: p.batchBALDConfigurations,
      dataset: cell.dataset
    )
  }

  static func addRounds(
    of cell: Cell,
    parameters p: ExperimentParameters,
    to graph: inout PipelineGraph,
    resources: ExperimentResources
  ) throws {
    let data = dataInput(cell.dataset)
    let group = cell.description
    let networks = cell.model.networkCount(ensembleSize: p.ensembleSize)
    let ensemble = cell.model == .deepEnsemble
    for round in 0...p.rounds {
      // Every network of the round (one, or M ensemble members) is its own train stage.
      var models: [String: StageInput] = [:]
      for member in 0..<networks {
        let id = trainID(cell, round: round, member: member)
        try graph.add(
          StageNode(
            id: id,
            stage: TrainStage(
              parameters: .init(
                initialisation: p.initialisation,
                epochs: p.epochs,
                batchSize: p.batchSize,
                lastBatch: p.lastBatch,
                weightDecay: p.weightDecay,
                weightDecayGrid: p.weightDecayGrid,
                learningRate: p.learningRate
              ),
              resources: resources
            ),
            inputs: ["data": data, "labelled": labelledInput(cell, round: round)],
            seed: trainSeed(p, repetition: cell.repetition, round: round, member: member),
            group: group,
            round: round
          )
        )
        models[PredictiveSamples.inputName(member: member)] = .artifact(id, "model")
      }
      let evaluation = EvaluateStage.Parameters(
        mcSamples: p.testMCSamples,
        testSubset: p.testSubset,
        testSubsetSeed: SeededGenerator.derive(root: UInt64(p.seed), path: [.name("test-subset")]),
        ensembleSize: ensemble ? p.ensembleSize : nil,
        ensembleDropout: ensemble ? p.ensembleDropout : nil
      )
      // The deterministic CNN's posterior is a point mass: its predictive mean is its one
      // dropout-off pass, so its evaluation runs no MC passes (the authors' deterministic
      // scripts evaluate with dropout off). Its calibration still measures the MC-dropout
      // predictions of the same network beside the dropout-off ones, as a comparison.
      var accuracies = evaluation
      if cell.model == .deterministic { accuracies.mcSamples = 0 }
      try graph.add(
        StageNode(
          id: stageID(cell, round: round, "evaluate"),
          stage: EvaluateStage(parameters: accuracies, resources: resources),
          inputs: models.merging(["data": data]) { $1 },
          seed: seed(p, "evaluate", cell.repetition, round),
          group: group,
          round: round
        )
      )
      // The same predictions as the evaluation (parameters, inputs and seed; for the
      // deterministic CNN also its MC-dropout passes), scored for calibration by a stage of its
      // own so that every cached evaluation stays valid.
      if p.calibration.measures(round: round, of: p.rounds) {
        try graph.add(
          StageNode(
            id: stageID(cell, round: round, CalibrateStage.kind),
            stage: CalibrateStage(parameters: evaluation, resources: resources),
            inputs: models.merging(["data": data]) { $1 },
            seed: seed(p, "evaluate", cell.repetition, round),
            group: calibrationGroup(cell),
            round: round
          )
        )
      }
      guard round < p.rounds else { break }
      let score = stageID(cell, round: round, "score")
      try graph.add(
        StageNode(
          id: score,
          stage: ScoreStage(parameters: scoreParameters(cell, p), resources: resources),
          inputs: models.merging([
            "data": data, "labelled": labelledInput(cell, round: round),
          ]) { $1 },
          seed: seed(p, "score", cell.repetition, round),
          group: group,
          round: round
        )
      )
      try graph.add(acquireNode(cell, round: round, scores: score, parameters: p))
    }
  }

  /// The acquire stage of `round` of `cell`: the top-K of the round's `score` stage.
  static func acquireNode(
    _ cell: Cell,
    round: Int,
    scores: StageID,
    parameters p: ExperimentParameters
  ) -> StageNode {
    StageNode(
      id: stageID(cell, round: round, "acquire"),
      stage: AcquireStage(parameters: .init(count: p.acquireCount)),
      inputs: [
        "labelled": labelledInput(cell, round: round), "scores": .artifact(scores, "scores"),
      ],
      seed: seed(p, "acquire", cell.repetition, round),
      group: cell.description,
      round: round
    )
  }
}
