import Acquisition
import Foundation
import HDF5Store
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
public struct ScoreStage: Stage {
  /// The scoring's semantic parameters.
  public struct Parameters: Codable, Sendable, Hashable {
    /// The acquisition function.
    public var function: AcquisitionFunction
    /// How the model predicts.
    public var model: UncertaintySource
    /// MC-dropout passes for Bayesian models (ignored, and recorded as 1, for deterministic).
    public var mcSamples: Int
    /// Pool points scored (0 = all).
    public var poolSubset: Int
    /// How a deterministic model scores `var-ratios`; nil for every other cell, so that it
    /// splits no other cache key.
    public var singlePassVariationRatios: SinglePassVariationRatios?

    /// The parameters; `singlePassVariationRatios` is kept only for deterministic Variation
    /// Ratios and `mcSamples` is normalised to 1 for deterministic models.
    public init(
      function: AcquisitionFunction,
      model: UncertaintySource,
      mcSamples: Int,
      poolSubset: Int,
      singlePassVariationRatios: SinglePassVariationRatios
    ) {
      self.function = function
      self.model = model
      self.mcSamples = model == .deterministic ? 1 : mcSamples
      self.poolSubset = poolSubset
      self.singlePassVariationRatios =
        model == .deterministic && function == .varRatios ? singlePassVariationRatios : nil
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

  /// Runs the stage; see the type\'s documentation.
  public func run(_ context: StageContext) throws {
    let set = try LabelledSet(contentsOf: context.inputURL("labelled"))
    var generator = SeededGenerator(seed: context.seed ?? 0)
    let size =
      parameters.poolSubset == 0 ? set.pool.count : min(parameters.poolSubset, set.pool.count)
    // A uniform subset without replacement, kept in pool order for readability.
    let subset = Array(set.pool.shuffled(using: &generator).prefix(size)).sorted()
    var scores = [Double](repeating: 0, count: subset.count)
    if parameters.function.needsPredictions && !subset.isEmpty {
      let data = try resources.dataset(at: context.inputURL("data"))
      let model = try ModelArtifact.read(from: context.inputURL("model"))
      let images = data.trainingImages(at: subset)
      let probabilities = try resources.withEngine { engine in
        switch parameters.model {
        case .mcDropout:
          try engine.predictMonteCarlo(
            model,
            images: images,
            samples: parameters.mcSamples,
            generator: &generator
          )
        case .deterministic:
          try engine.predictProbabilities(model, images: images)
        }
      }
      let passes = parameters.model == .mcDropout ? parameters.mcSamples : 1
      // For one pass, `var-ratios-mean` is exactly the paper's 1 - max_c p_c.
      scores = parameters.effectiveFunction.scores(
        MCProbabilities(
          passes: passes,
          points: subset.count,
          classes: 10,
          values: probabilities.scalars
        )
      )
    }
    if let bad = scores.firstIndex(where: { $0.isNaN }) {
      throw ExperimentError.nonFinite(
        "the \(parameters.effectiveFunction.rawValue) score of pool image \(subset[bad]) is "
          + "NaN (the model's probabilities are not finite), and a NaN must not decide an "
          + "acquisition"
      )
    }
    let file = try HDF5File.create(context.outputURL("scores").path)
    try file.write(subset.map(Int64.init), shape: [subset.count], to: "subset")
    try file.write(scores, shape: [scores.count], to: "scores")
    try file.setAttribute("function", .string(parameters.function.rawValue))
    try file.setAttribute("model", .string(parameters.model.rawValue))
    try file.close()
  }
}
