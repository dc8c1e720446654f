import Acquisition
import Foundation
import HDF5Store
import MNIST
import NeuralEngine
import PipelineCore

/// Measures a trained model's test accuracy two ways: deterministic (dropout off, weight
/// scaling; what the authors' code reports) and MC-averaged (mean of T stochastic softmax
/// outputs; what the paper's text describes).
///
/// With `mcSamples` = 0 (the plan's choice for the deterministic CNN, whose posterior is the
/// point mass q(ω) = δ(ω − θ)) the model's predictive mean is its one dropout-off pass: no
/// stochastic pass runs and `accuracy_mc` equals `accuracy_deterministic`, as the authors'
/// deterministic scripts evaluate (`model.evaluate`, dropout off). That is 1 pass instead of
/// 1 + T over the test set (with the paper's T = 200, about 1 s instead of 15 s a round).
///
/// For a deep ensemble of M members (inputs `model`, `model-1`, ... `model-(M-1)`):
/// `accuracy_deterministic` is the accuracy of the mean of the members' dropout-off
/// predictions, `accuracy_mc` that of the ensemble's predictive mean as it scores the pool
/// (the same, or the mean of M x T MC-dropout passes when members use MC dropout), and
/// `accuracy_members_mean` the members' mean accuracy (dropout off). An ensemble records no
/// `weight_decay`: with a weight-decay grid each member chooses its own c (see each member's
/// `model` artifact).
public struct EvaluateStage: Stage {
  /// The evaluation's semantic parameters.
  public struct Parameters: Codable, Sendable, Hashable {
    /// MC-dropout passes for the MC-averaged accuracy; 0 for a model whose predictive mean is
    /// its dropout-off pass (the deterministic CNN), which then runs no stochastic pass.
    public var mcSamples: Int
    /// Test images used: a class-stratified random subset of this size (0 = all 10,000).
    public var testSubset: Int
    /// The seed of the subset's draw (0 and unused when `testSubset` is 0); derived from the
    /// run's root seed only, so every round and repetition sees the same images.
    public var testSubsetSeed: UInt64

    /// The members M of a deep ensemble; nil for one network (so that it splits no other
    /// cache key).
    public var ensembleSize: Int?
    /// How the ensemble's members predict; nil for one network.
    public var ensembleDropout: EnsembleDropout?

    /// The parameters; `testSubsetSeed` is normalised to 0 when the whole test set is used.
    public init(
      mcSamples: Int,
      testSubset: Int,
      testSubsetSeed: UInt64,
      ensembleSize: Int? = nil,
      ensembleDropout: EnsembleDropout? = nil
    ) {
      self.mcSamples = mcSamples
      self.testSubset = testSubset
      self.testSubsetSeed = testSubset == 0 ? 0 : testSubsetSeed
      self.ensembleSize = ensembleSize
      self.ensembleDropout = ensembleSize == nil ? nil : (ensembleDropout ?? .off)
    }
  }

  /// The stage kind, part of every cache key.
  public static let kind = "evaluate"
  /// Bumped whenever the stage\'s logic changes. 2: a stratified random test subset instead of
  /// the first N; the model's weight-decay constant is copied into the metrics.
  public static let version = 2
  /// The semantic parameters (all enter the cache key).
  public var parameters: Parameters
  /// The HDF5 artifacts the stage writes.
  public var outputs: [String] { ["metrics"] }
  let resources: ExperimentResources

  /// Creates the stage.
  public init(parameters: Parameters, resources: ExperimentResources) {
    self.parameters = parameters
    self.resources = resources
  }

  /// Runs the stage; see the type\'s documentation.
  public func run(_ context: StageContext) throws {
    let (predicted, labels) = try predictTestSet(context)
    func accuracy(_ p: MCProbabilities, _ passes: Range<Int>? = nil) -> Double {
      Self.accuracy(
        p.values,
        passes: p.passes,
        using: passes ?? 0..<p.passes,
        labels: labels,
        classes: p.classes
      )
    }
    let off = predicted.dropoutOff
    try EvaluationMetrics(
      accuracyDeterministic: accuracy(off),
      accuracyMC: accuracy(predicted.predictive),
      testCount: labels.count,
      weightDecay: predicted.weightDecay,
      // One sample per member with dropout off: each member's own accuracy.
      memberAccuracies: parameters.ensembleSize == nil
        ? [] : (0..<off.passes).map { accuracy(off, $0..<($0 + 1)) }
    ).write(to: context.outputURL("metrics"))
  }

  /// The test set's labels and the predictions of the stage's model(s) for it (the test
  /// subset, seed and order of draws as `run` uses them; ``CalibrateStage`` shares them, so
  /// that with the same seed it sees bit for bit the predictions the accuracies came from).
  func predictTestSet(_ context: StageContext) throws -> (Predictions, labels: [Int]) {
    let data = try resources.dataset(at: context.inputURL("data"))
    let (images, labels) = data.testSet(
      stratifiedSubset: parameters.testSubset,
      seed: parameters.testSubsetSeed
    )
    var generator = SeededGenerator(seed: context.seed ?? 0)
    let predicted = try resources.withEngine { engine in
      parameters.ensembleSize == nil
        ? try predictNetwork(context, images: images, generator: &generator, engine: engine)
        : try predictEnsemble(context, images: images, generator: &generator, engine: engine)
    }
    return (predicted, labels)
  }

  /// The dropout-off samples and the predictive samples of what the stage evaluates, and the
  /// weight-decay constant its (first) network was trained with.
  struct Predictions {
    var dropoutOff: MCProbabilities
    var predictive: MCProbabilities
    var weightDecay: Double?
  }

  /// One network: its dropout-off prediction and `T` MC-dropout passes, from one convolution
  /// pass (bit for bit `predictProbabilities` then `predictMonteCarlo` with this generator).
  private func predictNetwork(
    _ context: StageContext,
    images: Tensor,
    generator: inout SeededGenerator,
    engine: ComputeEngine
  ) throws -> Predictions {
    let modelFile = try HDF5File.open(context.inputURL("model").path)
    let model = try BayesianCNN(
      readingFrom: modelFile,
      architecture: ModelArtifact.architecture(of: modelFile)
    )
    let weightDecay =
      modelFile.exists("weight_decay")
      ? try modelFile.read("weight_decay", as: Double.self).values[0] : nil
    try modelFile.close()
    guard parameters.mcSamples > 0 else {
      // A point-mass posterior: the predictive mean is the dropout-off pass itself.
      let probabilities = try engine.predictProbabilities(model, images: images)
      let off = MCProbabilities(
        passes: 1,
        points: probabilities.shape[0],
        classes: probabilities.shape[1],
        values: probabilities.scalars
      )
      return Predictions(dropoutOff: off, predictive: off, weightDecay: weightDecay)
    }
    let (deterministic, monteCarlo) = try engine.predictDeterministicAndMonteCarlo(
      model,
      images: images,
      samples: parameters.mcSamples,
      generator: &generator
    )
    let (n, c) = (deterministic.shape[0], deterministic.shape[1])
    return Predictions(
      dropoutOff: MCProbabilities(passes: 1, points: n, classes: c, values: deterministic.scalars),
      predictive: MCProbabilities(
        passes: parameters.mcSamples,
        points: n,
        classes: c,
        values: monteCarlo.scalars
      ),
      weightDecay: weightDecay
    )
  }

  /// A deep ensemble: its members' dropout-off predictions, and its predictive samples as it
  /// scores the pool (the same, or `T` MC-dropout passes per member).
  private func predictEnsemble(
    _ context: StageContext,
    images: Tensor,
    generator: inout SeededGenerator,
    engine: ComputeEngine
  ) throws -> Predictions {
    let networks = try PredictiveSamples.networks(context, count: parameters.ensembleSize ?? 1)
    let off = try PredictiveSamples(source: .deepEnsemble, mcSamples: 1, ensembleDropout: .off)
      .probabilities(of: networks, images: images, generator: &generator, engine: engine)
    guard parameters.ensembleDropout == .mcDropout else {
      return Predictions(dropoutOff: off, predictive: off)
    }
    let predictive = try PredictiveSamples(
      source: .deepEnsemble,
      mcSamples: parameters.mcSamples,
      ensembleDropout: .mcDropout
    ).probabilities(of: networks, images: images, generator: &generator, engine: engine)
    return Predictions(dropoutOff: off, predictive: predictive)
  }

  /// Accuracy of the argmax of the mean over passes of `[passes, N, classes]` probabilities
  /// (ties go to the lowest class); `passes` = 1 for deterministic predictions.
  public static func accuracy(
    _ probabilities: [Float],
    passes: Int,
    labels: [Int],
    classes: Int
  ) -> Double {
    accuracy(probabilities, passes: passes, using: 0..<passes, labels: labels, classes: classes)
  }

  /// Accuracy of the mean over the passes in `used` only, of `[passes, N, classes]`
  /// probabilities (to estimate the accuracy of fewer passes from one large sample).
  public static func accuracy(
    _ probabilities: [Float],
    passes: Int,
    using used: Range<Int>,
    labels: [Int],
    classes: Int
  ) -> Double {
    precondition(used.lowerBound >= 0 && used.upperBound <= passes, "passes \(used) of \(passes)")
    let n = labels.count
    var correct = 0
    var mean = [Float](repeating: 0, count: classes)
    for i in 0..<n {
      for c in 0..<classes { mean[c] = 0 }
      for t in used {
        let base = (t * n + i) * classes
        for c in 0..<classes { mean[c] += probabilities[base + c] }
      }
      var best = 0
      for c in 1..<classes where mean[c] > mean[best] { best = c }
      if best == labels[i] { correct += 1 }
    }
    return n == 0 ? 0 : Double(correct) / Double(n)
  }
}
