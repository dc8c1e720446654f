import Foundation
import NeuralEngine
import PipelineCore

/// Trains a freshly initialised Bayesian CNN on the current labelled set (the paper retrains
/// from scratch every round) and writes its checkpoint.
///
/// Weight decay is `lambda = c / N` with N the labelled-set size, on the dense-128 weights only,
/// as in the authors' code. The model is the same for the Bayesian and the deterministic
/// variants (both are trained with dropout); they differ only in how they predict.
public struct TrainStage: Stage {
  /// The training stage's semantic parameters.
  public struct Parameters: Codable, Sendable, Hashable {
    /// The network, by name (`paper`: 2 x conv 32@4x4, pool 2, dense 128).
    public var architecture: String = "paper"
    /// Epochs over the labelled set.
    public var epochs: Int
    /// Minibatch size.
    public var batchSize: Int
    /// Weight-decay constant c.
    public var weightDecay: Double
    /// Adam learning rate.
    public var learningRate: Double
  }

  /// The stage kind, part of every cache key.
  public static let kind = "train"
  /// Bumped whenever the stage\'s logic changes. 2: the engine computes conv1's weight
  /// gradient and the pooling backward by hand (same values, another summation order).
  public static let version = 2
  /// The semantic parameters (all enter the cache key).
  public var parameters: Parameters
  /// The HDF5 artifacts the stage writes.
  public var outputs: [String] { ["model"] }
  let resources: ExperimentResources

  /// Creates the stage.
  public init(parameters: Parameters, resources: ExperimentResources) {
    self.parameters = parameters
    self.resources = resources
  }

  /// Runs the stage; see the type\'s documentation.
  public func run(_ context: StageContext) throws {
    let data = try resources.dataset(at: context.inputURL("data"))
    let set = try LabelledSet(contentsOf: context.inputURL("labelled"))
    let images = data.trainingImages(at: set.labelled)
    let labels = set.labelled.map { data.trainLabels[$0] }
    var optimizer = Adam.Configuration()
    optimizer.learningRate = Float(parameters.learningRate)
    let configuration = TrainingConfiguration(
      epochs: parameters.epochs,
      batchSize: parameters.batchSize,
      weightDecay: Float(parameters.weightDecay),
      optimizer: optimizer
    )
    var state = TrainingState(
      architecture: .paper,
      optimizer: optimizer,
      generator: SeededGenerator(seed: context.seed ?? 0)
    )
    try resources.withEngine { engine in
      _ = try engine.train(
        &state,
        images: images,
        labels: labels,
        configuration: configuration
      ) { report in
        context.reportProgress(Double(report.completedEpochs) / Double(report.totalEpochs))
        return context.isCancelled ? .stop : .proceed
      }
    }
    try context.checkCancellation()
    try ModelArtifact.write(state.model, to: context.outputURL("model"))
  }
}
