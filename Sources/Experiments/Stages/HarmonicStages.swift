import Acquisition
import Foundation
import HDF5Store
import HarmonicFunctions
import MNIST
import NeuralEngine
import PipelineCore

/// Per repetition: the RBF graph over the split's initial labelled images, its pool and the
/// test images of the evaluation, and the inverse of its Laplacian over the unlabelled nodes,
/// `G = (D_UU - W_UU)^-1`, with the harmonic solution of the initial labels. The one-off
/// inversion of the Minimum Bayes Risk baseline (Zhu, Lafferty & Ghahramani 2003), cached and
/// keyed by the data, the split, sigma and the test subset; every round updates it without
/// inverting again (``HarmonicFieldStage``).
///
/// Artifact `graph`: `train_nodes` (`[l + p]` training indices: the initial labelled set in
/// labelling order, then the pool ascending), `labelled_count` (l), `test_nodes` (`[t]` test
/// indices), `inverse` (`[u, u]`, u = p + t, over the pool then the test nodes) and `field`
/// (`[u]`, `f_U`, the probability of class 1, the second class of the dataset).
public struct HarmonicGraphStage: Stage {
  /// The graph's semantic parameters.
  public struct Parameters: Codable, Sendable, Hashable {
    /// The RBF width sigma in `exp(-||x_i - x_j||^2 / sigma^2)`, pixels in [0, 1].
    public var sigma: Double
    /// The test images in the graph: the evaluation's stratified subset (0 = all).
    public var testSubset: Int
    /// The seed of that subset (as the evaluate stage draws it; 0 when all are used).
    public var testSubsetSeed: UInt64
  }

  /// The stage kind, part of every cache key.
  public static let kind = "harmonic-graph"
  /// Bumped whenever the stage's logic changes.
  public static let version = 1
  /// The semantic parameters (all enter the cache key).
  public var parameters: Parameters
  /// The HDF5 artifacts the stage writes.
  public var outputs: [String] { ["graph"] }
  let resources: ExperimentResources

  /// Creates the stage.
  public init(parameters: Parameters, resources: ExperimentResources) {
    self.parameters = parameters
    self.resources = resources
  }

  /// Runs the stage; see the type's documentation.
  public func run(_ context: StageContext) throws {
    let data = try resources.dataset(at: context.inputURL("data"))
    try Self.requireBinary(data.facts)
    let set = try LabelledSet(contentsOf: context.inputURL("labelled"))
    let trainNodes = set.labelled + set.pool
    let testNodes = data.testIndices(
      stratifiedSubset: parameters.testSubset,
      seed: parameters.testSubsetSeed
    )
    let pixels = data.facts.pixelCount
    var points = [Float]()
    points.reserveCapacity((trainNodes.count + testNodes.count) * pixels)
    for index in trainNodes {
      points += data.trainImages[(index * pixels)..<((index + 1) * pixels)]
    }
    for index in testNodes { points += data.testImages[(index * pixels)..<((index + 1) * pixels)] }
    let start = ContinuousClock.now
    let weights = RBFGraph.weights(points: points, dimension: pixels, sigma: parameters.sigma)
    let built = ContinuousClock.now
    let field = try HarmonicField(
      weights: weights,
      labelled: Array(set.labelled.indices),
      labels: set.labelled.map { Double(data.trainLabels[$0]) }
    )
    context.log(
      "graph of \(weights.rows) nodes: weights \(built - start), inverse of the "
        + "\(field.count) x \(field.count) Laplacian block \(ContinuousClock.now - built)"
    )
    let file = try HDF5File.create(context.outputURL("graph").path)
    try file.write(trainNodes.map(Int64.init), shape: [trainNodes.count], to: "train_nodes")
    try file.write([Int64(set.labelled.count)], shape: [], to: "labelled_count")
    try file.write(testNodes.map(Int64.init), shape: [testNodes.count], to: "test_nodes")
    try file.write(field.inverse.values, shape: [field.count, field.count], to: "inverse")
    try file.write(field.values, shape: [field.count], to: "field")
    try file.close()
  }

  /// The harmonic function labels two classes: f is the probability of the second.
  static func requireBinary(_ facts: DatasetFacts) throws {
    guard facts.classCount == 2 else {
      throw ExperimentError.infeasible(
        "the harmonic function (model harmonic, acquisition mbr) needs two classes, but the "
          + "dataset has \(facts.classCount) (\(facts.classNames.joined(separator: ", "))); "
          + "set dataset=digits:2,8 (or another pair of digits)"
      )
    }
  }
}

/// Per cell and round: the harmonic field after the round's labels, and each pool point's
/// Minimum Bayes Risk, from the repetition's graph inverse.
///
/// The images acquired since the split are labelled in one block update of the inverse
/// (``HarmonicField/label(_:as:)-swift.method``: the same as one rank-one update per image);
/// then every pool point `k` gets its expected estimated risk after querying it,
/// `(1 - f_k) R(f^{+(k,0)}) + f_k R(f^{+(k,1)})` with `R(f) = sum_i min(f_i, 1 - f_i)` over
/// the pool and test nodes still unlabelled, each from the rank-one update.
///
/// Artifact `field`: `pool` (`[p]` training indices of the pool, ascending), `risk` (`[p]`),
/// `pool_field` (`[p]`), `test` (`[t]` test indices) and `test_field` (`[t]`), and
/// `class_one_fraction` (the labelled set's proportion of class 1, for class mass
/// normalisation).
public struct HarmonicFieldStage: Stage {
  /// The field's semantic parameters.
  public struct Parameters: Codable, Sendable, Hashable {
    /// The RBF width of the graph (recorded for `status`; the graph input carries it too).
    public var sigma: Double
  }

  /// The stage kind, part of every cache key.
  public static let kind = "harmonic-field"
  /// Bumped whenever the stage's logic changes.
  public static let version = 1
  /// The semantic parameters (all enter the cache key).
  public var parameters: Parameters
  /// The HDF5 artifacts the stage writes.
  public var outputs: [String] { ["field"] }
  let resources: ExperimentResources

  /// Creates the stage.
  public init(parameters: Parameters, resources: ExperimentResources) {
    self.parameters = parameters
    self.resources = resources
  }

  /// Runs the stage; see the type's documentation.
  public func run(_ context: StageContext) throws {
    let data = try resources.dataset(at: context.inputURL("data"))
    let graphURL = try context.inputURL("graph")
    let graph = try HDF5File.open(graphURL.path)
    let trainNodes = try graph.read("train_nodes", as: Int64.self).values.map { Int($0) }
    let labelledCount = Int(try graph.read("labelled_count", as: Int64.self).values[0])
    let testNodes = try graph.read("test_nodes", as: Int64.self).values.map { Int($0) }
    let values = try graph.read("field", as: Double.self).values
    let inverse = try graph.read("inverse", as: Double.self).values
    try graph.close()
    guard inverse.count == values.count * values.count,
      values.count == trainNodes.count - labelledCount + testNodes.count
    else {
      throw ExperimentError.invalidArtifact(file: graphURL.path, problem: "inconsistent sizes")
    }
    var field = HarmonicField(
      inverse: Matrix(rows: values.count, columns: values.count, values: inverse),
      values: values
    )
    let set = try LabelledSet(contentsOf: context.inputURL("labelled"))
    // Field positions: the graph's pool, then its test nodes.
    var position: [Int: Int] = [:]
    for (offset, index) in trainNodes.dropFirst(labelledCount).enumerated() {
      position[index] = offset
    }
    let initial = Set(trainNodes.prefix(labelledCount))
    let acquired = set.labelled.filter { !initial.contains($0) }
    func positions(of indices: [Int], _ what: String) throws -> [Int] {
      try indices.map { index in
        guard let at = position[index] else {
          throw ExperimentError.invalidArtifact(
            file: graphURL.path,
            problem: "\(what) image \(index) is not a node of the graph"
          )
        }
        return at
      }
    }
    let labelledPositions = try positions(of: acquired, "labelled")
    let start = ContinuousClock.now
    try field.label(labelledPositions, as: acquired.map { Double(data.trainLabels[$0]) })
    let updated = ContinuousClock.now
    let pool = set.pool
    let poolPositions = try positions(of: pool, "pool")
    var risk = [Double](repeating: 0, count: pool.count)
    for (offset, at) in poolPositions.enumerated() {
      if offset % 256 == 0 { try context.checkCancellation() }
      risk[offset] = field.expectedRisk(querying: at)
    }
    context.log(
      "\(acquired.count) labels applied to the \(field.count)-node inverse in \(updated - start); "
        + "risks of \(pool.count) pool points in \(ContinuousClock.now - updated)"
    )
    let testStart = trainNodes.count - labelledCount
    let labels = set.labelled.map { data.trainLabels[$0] }
    let file = try HDF5File.create(context.outputURL("field").path)
    try file.write(pool.map(Int64.init), shape: [pool.count], to: "pool")
    try file.write(risk, shape: [pool.count], to: "risk")
    try file.write(poolPositions.map { field.values[$0] }, shape: [pool.count], to: "pool_field")
    try file.write(testNodes.map(Int64.init), shape: [testNodes.count], to: "test")
    try file.write(Array(field.values[testStart...]), shape: [testNodes.count], to: "test_field")
    let fraction = Double(labels.filter { $0 == 1 }.count) / Double(max(labels.count, 1))
    try file.write([fraction], shape: [], to: "class_one_fraction")
    try file.close()
  }
}

/// Per cell and round: the harmonic function's test accuracy, from the round's field.
/// `threshold` labels class 1 where `f > 0.5`; `class-mass` applies class mass normalisation
/// over the pool and test nodes with the labelled set's class proportion. The field is a
/// single deterministic prediction, so both accuracies of the metrics hold it.
public struct HarmonicEvaluateStage: Stage {
  /// The evaluation's semantic parameters.
  public struct Parameters: Codable, Sendable, Hashable {
    /// How the field labels the test images.
    public var prediction: HarmonicPrediction
  }

  /// The stage kind, part of every cache key.
  public static let kind = "harmonic-evaluate"
  /// Bumped whenever the stage's logic changes.
  public static let version = 1
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

  /// Runs the stage; see the type's documentation.
  public func run(_ context: StageContext) throws {
    let data = try resources.dataset(at: context.inputURL("data"))
    let file = try HDF5File.open(context.inputURL("field").path)
    defer { try? file.close() }
    let test = try file.read("test", as: Int64.self).values.map { Int($0) }
    let testField = try file.read("test_field", as: Double.self).values
    let poolField = try file.read("pool_field", as: Double.self).values
    let fraction = try file.read("class_one_fraction", as: Double.self).values[0]
    let predicted =
      switch parameters.prediction {
      case .threshold: HarmonicField.thresholded(testField)
      case .classMass:
        Array(
          HarmonicField.classMassNormalised(poolField + testField, classOneFraction: fraction)
            .suffix(testField.count)
        )
      }
    let correct = zip(predicted, test).filter { $0 == data.testLabels[$1] }.count
    let accuracy = Double(correct) / Double(max(test.count, 1))
    try EvaluationMetrics(
      accuracyDeterministic: accuracy,
      accuracyMC: accuracy,
      testCount: test.count
    )
    .write(to: context.outputURL("metrics"))
  }
}

/// Per cell and round: Minimum Bayes Risk scores of a fresh random subset of the pool (drawn
/// as ``ScoreStage`` draws it), the negated expected risk of the round's field, so that the
/// acquire stage's top-K takes the K lowest risks (the paper's greedy batch of 10).
public struct MinimumBayesRiskScoreStage: Stage {
  /// The scoring's semantic parameters.
  public struct Parameters: Codable, Sendable, Hashable {
    /// Pool points scored (0 = all).
    public var poolSubset: Int
  }

  /// The stage kind, part of every cache key.
  public static let kind = "mbr-score"
  /// Bumped whenever the stage's logic changes.
  public static let version = 1
  /// The semantic parameters (all enter the cache key).
  public var parameters: Parameters
  /// The HDF5 artifacts the stage writes.
  public var outputs: [String] { ["scores"] }

  /// Creates the stage.
  public init(parameters: Parameters) { self.parameters = parameters }

  /// Runs the stage; see the type's documentation.
  public func run(_ context: StageContext) throws {
    let set = try LabelledSet(contentsOf: context.inputURL("labelled"))
    let fieldURL = try context.inputURL("field")
    let file = try HDF5File.open(fieldURL.path)
    let pool = try file.read("pool", as: Int64.self).values.map { Int($0) }
    let risk = try file.read("risk", as: Double.self).values
    try file.close()
    guard pool == set.pool, risk.count == pool.count else {
      throw ExperimentError.invalidArtifact(
        file: fieldURL.path,
        problem: "its pool differs from the labelled set's"
      )
    }
    var generator = SeededGenerator(seed: context.seed ?? 0)
    let subset = ScoreStage.subset(of: pool, size: parameters.poolSubset, using: &generator)
    var riskOf: [Int: Double] = [:]
    for (index, value) in zip(pool, risk) { riskOf[index] = value }
    let scores = subset.map { -(riskOf[$0] ?? .nan) }
    if let bad = scores.firstIndex(where: { !$0.isFinite }) {
      throw ExperimentError.nonFinite(
        "the Minimum Bayes Risk of pool image \(subset[bad]) is not finite (the graph's "
          + "inverse lost precision); a NaN must not decide an acquisition"
      )
    }
    try PoolScores(
      subset: subset,
      scores: scores,
      function: AcquisitionFunction.minimumBayesRisk.rawValue,
      model: UncertaintySource.harmonic.rawValue
    ).write(to: context.outputURL("scores"))
  }
}
