/// How ``ComputeEngine/train(_:images:labels:configuration:onEpoch:)`` fits a model; the
/// defaults are the paper's (Keras `fit`: 50 epochs, minibatch 128, Adam, L2 `c / N` on fc1).
public struct TrainingConfiguration: Sendable, Hashable, Codable {
  /// Passes over the training set.
  public var epochs: Int
  /// Images per Adam step. The training set is reshuffled every epoch.
  public var batchSize: Int
  /// What happens to the last, partial batch of an epoch (1000 images at 128 leave 104).
  public var lastBatch: LastBatchPolicy
  /// The weight-decay constant `c`: the loss adds `λ Σ fc1.weight²` with `λ = c / N_train`.
  public var weightDecay: Float
  /// Adam's hyper-parameters.
  public var optimizer: Adam.Configuration

  /// Creates a configuration; the defaults are the paper's.
  public init(
    epochs: Int = 50,
    batchSize: Int = 128,
    lastBatch: LastBatchPolicy = .keep,
    weightDecay: Float = 3.5,
    optimizer: Adam.Configuration = Adam.Configuration()
  ) {
    precondition(epochs >= 0, "epochs \(epochs) must not be negative")
    precondition(batchSize > 0, "batch size \(batchSize) must be positive")
    precondition(weightDecay >= 0, "weight decay \(weightDecay) must not be negative")
    self.epochs = epochs
    self.batchSize = batchSize
    self.lastBatch = lastBatch
    self.weightDecay = weightDecay
    self.optimizer = optimizer
  }

  /// The index ranges of one epoch's batches over `count` shuffled images.
  public func batches(count: Int) -> [Range<Int>] {
    var ranges: [Range<Int>] = []
    for start in stride(from: 0, to: count, by: batchSize) {
      let end = min(start + batchSize, count)
      if end - start < batchSize, lastBatch == .drop, start > 0 { break }
      ranges.append(start..<end)
    }
    return ranges
  }

  /// The L2 coefficient `λ = c / N_train` for a training set of `trainingSetSize` images.
  public func penalty(trainingSetSize: Int) -> Float {
    weightDecay / Float(trainingSetSize)
  }
}

/// What training does with the last batch of an epoch when the training set is not a multiple
/// of the batch size.
public enum LastBatchPolicy: String, Sendable, Hashable, Codable, CaseIterable {
  /// Train on it too (Keras `fit`, the authors' code): e.g. at 130 images an epoch has a batch
  /// of 128 and one Adam step on 2 images, which makes visible dips in the learning curves.
  case keep
  /// Skip it (PyTorch `drop_last=True`); the images it holds are in other epochs' batches. An
  /// epoch whose only batch is partial (fewer images than the batch size) keeps it.
  case drop
}

/// Everything training needs to continue exactly where it stopped: weights, optimizer state,
/// the generator (shuffles and dropout masks) and the number of finished epochs.
///
/// Resuming from a saved state gives bit-identical weights to an uninterrupted run.
public struct TrainingState: Sendable, Hashable {
  /// The model being trained.
  public var model: BayesianCNN
  /// Adam's step and moments.
  public var optimizer: Adam
  /// The generator for shuffling and dropout masks, as of the end of the last finished epoch.
  public var generator: SeededGenerator
  /// Epochs finished so far.
  public var completedEpochs: Int

  /// A saved or hand-made state.
  public init(model: BayesianCNN, optimizer: Adam, generator: SeededGenerator, completedEpochs: Int)
  {
    precondition(completedEpochs >= 0, "negative epoch count \(completedEpochs)")
    self.model = model
    self.optimizer = optimizer
    self.generator = generator
    self.completedEpochs = completedEpochs
  }

  /// The state before the first epoch: a fresh Glorot-initialised model (drawn from
  /// `generator` first) and a fresh optimizer; training then continues with `generator`.
  public init(
    architecture: BayesianCNN.Architecture = .paper,
    initialisation: WeightInitialisation = .glorot,
    optimizer configuration: Adam.Configuration = Adam.Configuration(),
    generator: SeededGenerator
  ) {
    var generator = generator
    self.model = BayesianCNN(
      architecture: architecture,
      initialisation: initialisation,
      generator: &generator
    )
    self.optimizer = Adam(configuration: configuration, for: architecture)
    self.generator = generator
    self.completedEpochs = 0
  }
}

/// What the per-epoch callback of training sees.
public struct EpochReport: Sendable {
  /// Epochs finished, including this one (1 after the first).
  public var completedEpochs: Int
  /// Epochs requested in total.
  public var totalEpochs: Int
  /// Mean over the epoch's batches of `cross-entropy + λ Σ fc1.weight²` (with dropout on).
  public var meanLoss: Double
  /// The full state after this epoch, ready to be written as a checkpoint.
  public var state: TrainingState
}

/// The callback's answer: go on, or stop after this epoch (e.g. on Ctrl-C).
public enum TrainingDecision: Sendable {
  /// Train the next epoch.
  case proceed
  /// Return now; the state holds the finished epochs and can be resumed later.
  case stop
}
