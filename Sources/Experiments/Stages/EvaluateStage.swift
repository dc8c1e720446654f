import Acquisition
import Foundation
import HDF5Store
import NeuralEngine
import PipelineCore

/// Measures a trained model's test accuracy two ways: deterministic (dropout off, weight
/// scaling; what the authors' code reports) and MC-averaged (mean of T stochastic softmax
/// outputs; what the paper's text describes).
///
/// For a deep ensemble of M members (inputs `model`, `model-1`, ... `model-(M-1)`):
/// `accuracy_deterministic` is the accuracy of the mean of the members' dropout-off
/// predictions, `accuracy_mc` that of the ensemble's predictive mean as it scores the pool
/// (the same, or the mean of M x T MC-dropout passes when members use MC dropout), and
/// `accuracy_members_mean` the members' mean accuracy (dropout off).
public struct EvaluateStage: Stage {
  /// The evaluation's semantic parameters.
  public struct Parameters: Codable, Sendable, Hashable {
    /// MC-dropout passes for the MC-averaged accuracy.
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
    if parameters.ensembleSize != nil {
      try runEnsemble(context)
      return
    }
    let data = try resources.dataset(at: context.inputURL("data"))
    let modelFile = try HDF5File.open(context.inputURL("model").path)
    let model = try BayesianCNN(readingFrom: modelFile)
    let weightDecay =
      modelFile.exists("weight_decay")
      ? try modelFile.read("weight_decay", as: Double.self).values[0] : nil
    try modelFile.close()
    let (images, labels) = data.testSet(
      stratifiedSubset: parameters.testSubset,
      seed: parameters.testSubsetSeed
    )
    var generator = SeededGenerator(seed: context.seed ?? 0)
    // One convolution pass serves both; the results are bit for bit those of
    // `predictProbabilities` followed by `predictMonteCarlo` with this generator.
    let (deterministic, monteCarlo) = try resources.withEngine { engine in
      try engine.predictDeterministicAndMonteCarlo(
        model,
        images: images,
        samples: parameters.mcSamples,
        generator: &generator
      )
    }
    let classes = 10
    let deterministicAccuracy = Self.accuracy(
      deterministic.scalars,
      passes: 1,
      labels: labels,
      classes: classes
    )
    let monteCarloAccuracy = Self.accuracy(
      monteCarlo.scalars,
      passes: parameters.mcSamples,
      labels: labels,
      classes: classes
    )
    let file = try HDF5File.create(context.outputURL("metrics").path)
    try file.write([deterministicAccuracy], shape: [], to: "accuracy_deterministic")
    try file.write([monteCarloAccuracy], shape: [], to: "accuracy_mc")
    try file.write([Int64(labels.count)], shape: [], to: "test_count")
    if let weightDecay { try file.write([weightDecay], shape: [], to: "weight_decay") }
    try file.close()
  }

  /// The evaluation of a deep ensemble (see the type's documentation).
  private func runEnsemble(_ context: StageContext) throws {
    let members = parameters.ensembleSize ?? 1
    let dropout = parameters.ensembleDropout ?? .off
    let data = try resources.dataset(at: context.inputURL("data"))
    let networks = try PredictiveSamples.networks(context, count: members)
    let (images, labels) = data.testSet(
      stratifiedSubset: parameters.testSubset,
      seed: parameters.testSubsetSeed
    )
    var generator = SeededGenerator(seed: context.seed ?? 0)
    let (off, predictive) = try resources.withEngine { engine in
      let off = try PredictiveSamples(
        source: .deepEnsemble,
        mcSamples: 1,
        ensembleDropout: .off
      ).probabilities(of: networks, images: images, generator: &generator, engine: engine)
      let predictive =
        dropout == .off
        ? off
        : try PredictiveSamples(
          source: .deepEnsemble,
          mcSamples: parameters.mcSamples,
          ensembleDropout: .mcDropout
        ).probabilities(of: networks, images: images, generator: &generator, engine: engine)
      return (off, predictive)
    }
    let classes = off.classes
    let ensembleAccuracy = Self.accuracy(
      off.values,
      passes: members,
      labels: labels,
      classes: classes
    )
    let memberAccuracies = (0..<members).map {
      Self.accuracy(
        off.values,
        passes: members,
        using: $0..<($0 + 1),
        labels: labels,
        classes: classes
      )
    }
    let predictiveAccuracy = Self.accuracy(
      predictive.values,
      passes: predictive.passes,
      labels: labels,
      classes: classes
    )
    let file = try HDF5File.create(context.outputURL("metrics").path)
    try file.write([ensembleAccuracy], shape: [], to: "accuracy_deterministic")
    try file.write([predictiveAccuracy], shape: [], to: "accuracy_mc")
    try file.write(
      [memberAccuracies.reduce(0, +) / Double(members)],
      shape: [],
      to: "accuracy_members_mean"
    )
    try file.write(memberAccuracies, shape: [members], to: "accuracy_members")
    try file.write([Int64(members)], shape: [], to: "ensemble_size")
    try file.write([Int64(labels.count)], shape: [], to: "test_count")
    try file.close()
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
