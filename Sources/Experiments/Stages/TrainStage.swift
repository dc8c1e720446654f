import Foundation
import HDF5Store
import NeuralEngine
import PipelineCore

/// Trains a freshly initialised Bayesian CNN on the current labelled set (the paper retrains
/// from scratch every round) and writes its checkpoint.
///
/// Weight decay is `lambda = c / N` with N the labelled-set size, on the dense-128 weights only,
/// as in the authors' code. With a fixed c one model is trained. With a grid of c (the paper's
/// "weight decay optimised on the validation set"), one model is trained per c from the same
/// seed (same initial weights, same shuffles and masks; only c differs) and the one with the
/// best validation accuracy with dropout off is kept; ties go to the lower validation
/// cross-entropy, then to the earlier grid value. Dropout-off accuracy is used because the
/// model serves both the Bayesian and the deterministic cells of a round. The model is the same
/// for both variants (both are trained with dropout); they differ only in how they predict.
///
/// The `model` artifact holds the checkpoint plus `weight_decay` (the c used, a scalar) and, in
/// grid mode, `weight_decay_grid`, `validation_accuracy` and `validation_cross_entropy` ([K]).
public struct TrainStage: Stage {
  /// The training stage's semantic parameters.
  public struct Parameters: Codable, Sendable, Hashable {
    /// The network, by name (`paper`: 2 x conv 32@4x4, pool 2, dense 128).
    public var architecture: String = "paper"
    /// How the weights are initialised.
    public var initialisation: WeightInitialisation
    /// Epochs over the labelled set.
    public var epochs: Int
    /// Minibatch size.
    public var batchSize: Int
    /// What happens to an epoch's last, partial batch.
    public var lastBatch: LastBatchPolicy
    /// Weight-decay constant c (0 and unused when `weightDecayGrid` is not empty).
    public var weightDecay: Double
    /// The c values tuned on the validation set; empty for a fixed c.
    public var weightDecayGrid: [Double]
    /// Adam learning rate.
    public var learningRate: Double

    /// The parameters; `weightDecay` is normalised to 0 under a grid so that it does not
    /// split cache keys it cannot influence.
    public init(
      initialisation: WeightInitialisation,
      epochs: Int,
      batchSize: Int,
      lastBatch: LastBatchPolicy,
      weightDecay: Double,
      weightDecayGrid: [Double] = [],
      learningRate: Double
    ) {
      self.initialisation = initialisation
      self.epochs = epochs
      self.batchSize = batchSize
      self.lastBatch = lastBatch
      self.weightDecay = weightDecayGrid.isEmpty ? weightDecay : 0
      self.weightDecayGrid = weightDecayGrid
      self.learningRate = learningRate
    }

    /// The c values trained in a round.
    public var candidates: [Double] { weightDecayGrid.isEmpty ? [weightDecay] : weightDecayGrid }
  }

  /// The stage kind, part of every cache key.
  public static let kind = "train"
  /// Bumped whenever the stage\'s logic changes. 2: the engine computes conv1's weight
  /// gradient and the pooling backward by hand (same values, another summation order).
  /// 3: initialisation scheme, last-batch policy and weight-decay grid; `weight_decay` recorded.
  public static let version = 3
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
    let candidates = parameters.candidates
    var trained: [BayesianCNN] = []
    for (index, c) in candidates.enumerated() {
      let model = try train(
        context,
        architecture: BayesianCNN.Architecture(facts: data.facts),
        images: images,
        labels: labels,
        weightDecay: c
      ) { fraction in
        context.reportProgress((Double(index) + fraction) / Double(candidates.count))
      }
      try context.checkCancellation()
      trained.append(model)
    }
    let file = try HDF5File.create(context.outputURL("model").path)
    if candidates.count == 1 {
      try trained[0].write(to: file)
      try file.write([candidates[0]], shape: [], to: "weight_decay")
    } else {
      guard !set.validation.isEmpty else {
        throw ExperimentError.infeasible(
          "weight-decay-grid needs a validation set; set validation to a positive number"
        )
      }
      let validationImages = data.trainingImages(at: set.validation)
      let validationLabels = set.validation.map { data.trainLabels[$0] }
      var scores: [ValidationScore] = []
      for model in trained {
        let probabilities = try resources.withEngine { engine in
          try engine.predictProbabilities(model, images: validationImages)
        }
        scores.append(
          ValidationScore(
            probabilities: probabilities.scalars,
            labels: validationLabels,
            classes: model.architecture.classCount
          )
        )
      }
      let best = Self.selectBest(scores)
      try trained[best].write(to: file)
      try file.write([candidates[best]], shape: [], to: "weight_decay")
      try file.write(candidates, shape: [candidates.count], to: "weight_decay_grid")
      try file.write(scores.map(\.accuracy), shape: [scores.count], to: "validation_accuracy")
      try file.write(
        scores.map(\.crossEntropy),
        shape: [scores.count],
        to: "validation_cross_entropy"
      )
    }
    try file.close()
  }

  /// Trains one fresh model with weight-decay constant `c`; every candidate starts from the
  /// stage's seed.
  private func train(
    _ context: StageContext,
    architecture: BayesianCNN.Architecture,
    images: Tensor,
    labels: [Int],
    weightDecay c: Double,
    progress: (Double) -> Void
  ) throws -> BayesianCNN {
    var optimizer = Adam.Configuration()
    optimizer.learningRate = Float(parameters.learningRate)
    let configuration = TrainingConfiguration(
      epochs: parameters.epochs,
      batchSize: parameters.batchSize,
      lastBatch: parameters.lastBatch,
      weightDecay: Float(c),
      optimizer: optimizer
    )
    var state = TrainingState(
      architecture: architecture,
      initialisation: parameters.initialisation,
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
        guard report.meanLoss.isFinite else {
          throw ExperimentError.nonFinite(
            "the training loss became \(report.meanLoss) in epoch \(report.completedEpochs) "
              + "of \(report.totalEpochs) (weight decay c = \(c))"
          )
        }
        progress(Double(report.completedEpochs) / Double(report.totalEpochs))
        return context.isCancelled ? .stop : .proceed
      }
    }
    return state.model
  }

  /// The index of the best score: highest accuracy, then lowest cross-entropy, then earliest.
  static func selectBest(_ scores: [ValidationScore]) -> Int {
    var best = 0
    for index in scores.indices.dropFirst() {
      let (a, b) = (scores[index], scores[best])
      if a.accuracy > b.accuracy || (a.accuracy == b.accuracy && a.crossEntropy < b.crossEntropy) {
        best = index
      }
    }
    return best
  }
}

/// A model's dropout-off accuracy and mean cross-entropy on the validation set.
struct ValidationScore: Sendable, Equatable {
  /// Fraction of validation images whose argmax class is their label.
  var accuracy: Double
  /// Mean of `-log p(label)`, with p clamped at 1e-12.
  var crossEntropy: Double

  init(accuracy: Double, crossEntropy: Double) {
    self.accuracy = accuracy
    self.crossEntropy = crossEntropy
  }

  /// Scores `[N, classes]` probabilities against `labels`.
  init(probabilities: [Float], labels: [Int], classes: Int) {
    var correct = 0
    var loss = 0.0
    for (i, label) in labels.enumerated() {
      let row = probabilities[(i * classes)..<((i + 1) * classes)]
      var best = row.startIndex
      for c in row.indices where row[c] > row[best] { best = c }
      if best - row.startIndex == label { correct += 1 }
      loss -= log(max(Double(row[row.startIndex + label]), 1e-12))
    }
    accuracy = labels.isEmpty ? 0 : Double(correct) / Double(labels.count)
    crossEntropy = labels.isEmpty ? 0 : loss / Double(labels.count)
  }
}
