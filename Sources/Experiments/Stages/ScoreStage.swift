import Acquisition
import Foundation
import HDF5Store
import MNIST
import NeuralEngine
import PipelineCore

/// Scores a fresh random subset of the pool with an acquisition function.
///
/// As in the authors' code, each round draws a new uniform subset of `poolSubset` pool points
/// (0 = the whole pool) and scores only those. Bayesian models use T MC-dropout passes;
/// deterministic models one pass with dropout off (T = 1). With one pass BALD is exactly 0 for
/// every point, so the seeded tie-break picks at random within the subset; Variation Ratios is
/// the paper's `1 - max_c p_c` (least confidence) unless `singlePassVariationRatios` asks for
/// the mode count, which is also 0 everywhere (random selection).
/// The artifact stores training-set indices, never subset positions.
///
/// BatchBALD scores with consistent MC dropout, stores every point's BALD score (its first
/// greedy step) and the batch it chose (``PoolScores/batch``), which the acquire stage takes.
public struct ScoreStage: Stage {
  /// The scoring's semantic parameters.
  public struct Parameters: Codable, Sendable, Hashable {
    /// The acquisition function.
    public var function: AcquisitionFunction
    /// Where the probability samples come from (one network with dropout off, MC dropout, or
    /// a deep ensemble); the key keeps the name `model` so that cache keys stay as they were.
    public var model: UncertaintySource
    /// MC-dropout passes for Bayesian models (ignored, and recorded as 1, for deterministic).
    public var mcSamples: Int
    /// Pool points scored (0 = all).
    public var poolSubset: Int
    /// How a deterministic model scores `var-ratios`; nil for every other cell, so that it
    /// splits no other cache key.
    public var singlePassVariationRatios: SinglePassVariationRatios?
    /// The ensemble's members M; nil unless the source is a deep ensemble (so that it splits
    /// no other cache key).
    public var ensembleSize: Int?
    /// How the ensemble's members predict; nil unless the source is a deep ensemble.
    public var ensembleDropout: EnsembleDropout?
    /// `consistent` when the MC-dropout passes share one mask per pass (always for BatchBALD);
    /// nil for independent masks or no MC dropout (so that it splits no other cache key).
    public var masks: MonteCarloMasks?
    /// BatchBALD's batch size b (the acquire count); nil for every other function.
    public var batch: Int?
    /// BatchBALD's joint-configuration budget; nil for every other function.
    public var configurations: Int?
    /// On Repeated MNIST, the copies of each image: the subset is drawn as whole groups of
    /// copies (so that a scored image's copies are scored with it, as in the whole pool of
    /// Kirsch et al.); nil on MNIST.
    public var copies: Int?

    /// The parameters; `singlePassVariationRatios` is kept only for deterministic Variation
    /// Ratios, the ensemble's only for ensembles, and `mcSamples` is normalised to 1 where no
    /// MC dropout is used (deterministic models, ensembles of dropout-off members).
    public init(
      function: AcquisitionFunction,
      model: UncertaintySource,
      mcSamples: Int,
      poolSubset: Int,
      singlePassVariationRatios: SinglePassVariationRatios,
      ensembleSize: Int = 1,
      ensembleDropout: EnsembleDropout = .off,
      masks: MonteCarloMasks = .independent,
      batch: Int = 0,
      configurations: Int = 0,
      dataset: DatasetVariant = .mnist
    ) {
      self.function = function
      self.model = model
      let usesMC =
        model == .mcDropout || (model == .deepEnsemble && ensembleDropout == .mcDropout)
      self.mcSamples = usesMC ? mcSamples : 1
      self.poolSubset = poolSubset
      self.singlePassVariationRatios =
        model == .deterministic && function == .varRatios ? singlePassVariationRatios : nil
      self.ensembleSize = model == .deepEnsemble ? ensembleSize : nil
      self.ensembleDropout = model == .deepEnsemble ? ensembleDropout : nil
      let joint = function.choosesBatchJointly
      self.masks = usesMC && (joint || masks == .consistent) ? .consistent : nil
      self.batch = joint ? batch : nil
      self.configurations = joint ? configurations : nil
      if case .repeated(let copies, _) = dataset { self.copies = copies }
    }

    /// How the stage turns its networks into probability samples.
    var predictive: PredictiveSamples {
      PredictiveSamples(
        source: model,
        mcSamples: mcSamples,
        ensembleDropout: ensembleDropout ?? .off,
        masks: masks ?? .independent
      )
    }

    /// The round's scored subset of `pool`: `poolSubset` points (all when 0 or larger than the
    /// pool), drawn as whole groups of copies on Repeated MNIST; the first draw of the score
    /// stage's generator. `trainingCount` (the training split's size) is read only for copies.
    func scoredSubset(
      of pool: [Int],
      trainingCount: () throws -> Int,
      generator: inout SeededGenerator
    ) throws -> [Int] {
      try ScoreStage.drawSubset(
        pool: pool,
        size: poolSubset == 0 ? pool.count : min(poolSubset, pool.count),
        copies: copies,
        trainingCount: trainingCount,
        generator: &generator
      )
    }

    /// The scoring rule actually applied to the probabilities.
    public var effectiveFunction: AcquisitionFunction {
      singlePassVariationRatios == .leastConfidence ? .varRatiosMean : function
    }
  }

  /// The stage kind, part of every cache key.
  public static let kind = "score"
  /// Bumped whenever the stage\'s logic changes.
  public static let version = 1
  /// The semantic parameters (all enter the cache key).
  public var parameters: Parameters
  /// The HDF5 artifacts the stage writes.
  public var outputs: [String] { ["scores"] }
  let resources: ExperimentResources

  /// Creates the stage.
  public init(parameters: Parameters, resources: ExperimentResources) {
    self.parameters = parameters
    self.resources = resources
  }

  /// The round's scored subset: `size` pool points (all when 0 or larger than the pool), a
  /// uniform draw without replacement, kept in pool order for readability.
  static func subset(of pool: [Int], size: Int, using generator: inout SeededGenerator) -> [Int] {
    let count = size == 0 ? pool.count : min(size, pool.count)
    return Array(pool.shuffled(using: &generator).prefix(count)).sorted()
  }

  /// Runs the stage; see the type\'s documentation.
  public func run(_ context: StageContext) throws {
    let set = try LabelledSet(contentsOf: context.inputURL("labelled"))
    var generator = SeededGenerator(seed: context.seed ?? 0)
    let subset = try parameters.scoredSubset(
      of: set.pool,
      trainingCount: { try resources.dataset(at: context.inputURL("data")).facts.trainingCount },
      generator: &generator
    )
    var scores = [Double](repeating: 0, count: subset.count)
    var batch: BatchBALD.Batch?
    if parameters.function.needsPredictions && !subset.isEmpty {
      let data = try resources.dataset(at: context.inputURL("data"))
      let networks = try PredictiveSamples.networks(
        context,
        count: parameters.ensembleSize ?? 1
      )
      let images = data.trainingImages(at: subset)
      let probabilities = try resources.withEngine { engine in
        try parameters.predictive.probabilities(
          of: networks,
          images: images,
          generator: &generator,
          engine: engine
        )
      }
      // For one pass, `var-ratios-mean` is exactly the paper's 1 - max_c p_c.
      scores = parameters.effectiveFunction.scores(probabilities)
      if let size = parameters.batch {
        do {
          batch = try BatchBALD.select(
            probabilities,
            count: size,
            configurationBudget: parameters.configurations ?? 0,
            using: &generator
          )
        } catch {
          throw ExperimentError.infeasible("\(error) (scoring \(context.id))")
        }
      }
    }
    if let bad = scores.firstIndex(where: { $0.isNaN }) {
      throw ExperimentError.nonFinite(
        "the \(parameters.effectiveFunction.rawValue) score of pool image \(subset[bad]) is "
          + "NaN (the model's probabilities are not finite), and a NaN must not decide an "
          + "acquisition"
      )
    }
    var artifact = PoolScores(
      subset: subset,
      scores: scores,
      function: parameters.function.rawValue,
      model: parameters.model.rawValue
    )
    if let batch {
      artifact.batch = batch.picked.map { subset[$0] }
      artifact.batchGains = batch.gains
    }
    try artifact.write(to: context.outputURL("scores"))
  }

  /// The scored subset: a uniform draw of `size` pool points without replacement, sorted (in
  /// pool order, for readability); on Repeated MNIST (`copies` not nil) then redrawn as whole
  /// groups of copies (``subsetOfCopies(pool:size:copies:trainingCount:generator:)``).
  static func drawSubset(
    pool: [Int],
    size: Int,
    copies: Int?,
    trainingCount: () throws -> Int,
    generator: inout SeededGenerator
  ) throws -> [Int] {
    let subset = Self.subset(of: pool, size: size, using: &generator)
    guard let copies else { return subset }
    return try subsetOfCopies(
      pool: pool,
      size: size,
      copies: copies,
      trainingCount: trainingCount(),
      generator: &generator
    )
  }

  /// A subset of `size` pool points drawn as whole groups of copies: the training split holds
  /// `copies` copies one after another (image `i`'s copies are `i + j · trainingCount / copies`),
  /// the groups of the pool are shuffled, and whole groups are taken until `size` points (the
  /// last group cut short), sorted.
  static func subsetOfCopies(
    pool: [Int],
    size: Int,
    copies: Int,
    trainingCount: Int,
    generator: inout SeededGenerator
  ) throws -> [Int] {
    let base = trainingCount / copies
    guard base * copies == trainingCount else {
      throw ExperimentError.infeasible(
        "a training split of \(trainingCount) images is not \(copies) copies of one set"
      )
    }
    var groups: [Int: [Int]] = [:]
    for index in pool { groups[index % base, default: []].append(index) }
    var subset: [Int] = []
    for group in groups.keys.sorted().shuffled(using: &generator) where subset.count < size {
      subset += groups[group]!.prefix(size - subset.count)
    }
    return subset.sorted()
  }
}
