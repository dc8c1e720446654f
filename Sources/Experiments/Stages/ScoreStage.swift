import Acquisition
import Foundation
import HDF5Store
import NeuralEngine
import PipelineCore

/// Scores a fresh random subset of the pool with an acquisition function.
///
/// As in the authors' code, each round draws a new uniform subset of `poolSubset` pool points
/// (0 = the whole pool) and scores only those. Bayesian models use T MC-dropout passes;
/// deterministic models one pass with dropout off (T = 1), which makes BALD and mode-count
/// Variation Ratios constant, so the seeded tie-break picks at random within the subset.
/// The artifact stores training-set indices, never subset positions.
public struct ScoreStage: Stage {
  /// The scoring's semantic parameters.
  public struct Parameters: Codable, Sendable, Hashable {
    /// The acquisition function.
    public var function: AcquisitionFunction
    /// How the model predicts.
    public var model: ModelKind
    /// MC-dropout passes for Bayesian models (ignored, and recorded as 1, for deterministic).
    public var mcSamples: Int
    /// Pool points scored (0 = all).
    public var poolSubset: Int
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

  /// Creates the stage; `mcSamples` is normalised to 1 for deterministic models so that it
  /// does not split their cache keys.
  public init(parameters: Parameters, resources: ExperimentResources) {
    var parameters = parameters
    if parameters.model == .deterministic { parameters.mcSamples = 1 }
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
        case .bayesian:
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
      let passes = parameters.model == .bayesian ? parameters.mcSamples : 1
      scores = parameters.function.scores(
        MCProbabilities(
          passes: passes,
          points: subset.count,
          classes: 10,
          values: probabilities.scalars
        )
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
