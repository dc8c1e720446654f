import Foundation
import MNIST
import NeuralEngine
import PipelineCore

/// Per repetition: splits the 60,000 training images into a validation set, a balanced initial
/// labelled set and the unlabelled pool.
///
/// A seeded permutation of all training indices is drawn; the first `validation` indices are the
/// validation set; then, walking the rest of the permutation, the first `initialPerClass` images
/// of each digit form the initial labelled set (the paper's "random but balanced" 20); everything
/// else is the pool. (The authors' script kept 5000 images unused and drew the pool from
/// [20k, 60k); we use all remaining images.) With `poolSize` the pool is the first `poolSize`
/// of those remaining images in permutation order (a uniform subset) and the rest are unused,
/// like the 5000-image pool of the authors' Figure 3 script.
public struct SplitStage: Stage {
  /// The split's semantic parameters.
  public struct Parameters: Codable, Sendable, Hashable {
    /// Validation images held out.
    public var validation: Int
    /// Initial labelled images per class.
    public var initialPerClass: Int
    /// Pool images kept; nil keeps every remaining image (and leaves existing keys unchanged).
    public var poolSize: Int? = nil
  }

  /// The stage kind, part of every cache key.
  public static let kind = "split"
  /// Bumped whenever the stage\'s logic changes.
  public static let version = 1
  /// The semantic parameters (all enter the cache key).
  public var parameters: Parameters
  /// The HDF5 artifacts the stage writes.
  public var outputs: [String] { ["labelled"] }
  let resources: ExperimentResources

  /// Creates the stage.
  public init(parameters: Parameters, resources: ExperimentResources) {
    self.parameters = parameters
    self.resources = resources
  }

  /// Runs the stage; see the type\'s documentation.
  public func run(_ context: StageContext) throws {
    let data = try resources.dataset(at: context.inputURL("data"))
    var generator = SeededGenerator(seed: context.seed ?? 0)
    let set = try Self.split(
      labels: data.trainLabels,
      classes: data.facts.classCount,
      validation: parameters.validation,
      initialPerClass: parameters.initialPerClass,
      poolSize: parameters.poolSize,
      generator: &generator
    )
    try set.validate(trainingCount: data.trainLabels.count, file: "split of \(context.id)")
    try set.write(to: context.outputURL("labelled"))
  }

  /// The split itself, a pure function of the labels and the generator.
  static func split(
    labels: [Int],
    classes: Int,
    validation: Int,
    initialPerClass: Int,
    poolSize: Int? = nil,
    generator: inout SeededGenerator
  ) throws -> LabelledSet {
    let permutation = Array(labels.indices).shuffled(using: &generator)
    guard validation + classes * initialPerClass < labels.count else {
      throw ExperimentError.infeasible(
        "validation \(validation) + initial \(classes * initialPerClass) exceed \(labels.count) "
          + "images"
      )
    }
    let validationSet = Array(permutation.prefix(validation))
    var perClass = [Int](repeating: 0, count: classes)
    var initial: [Int] = []
    var pool: [Int] = []
    for index in permutation.dropFirst(validation) {
      if perClass[labels[index]] < initialPerClass {
        perClass[labels[index]] += 1
        initial.append(index)
      } else {
        pool.append(index)
      }
    }
    guard perClass.allSatisfy({ $0 == initialPerClass }) else {
      throw ExperimentError.infeasible("not enough images of every class for the initial set")
    }
    guard let poolSize else {
      return LabelledSet(labelled: initial, pool: pool.sorted(), validation: validationSet.sorted())
    }
    guard poolSize <= pool.count else {
      throw ExperimentError.infeasible(
        "pool-size=\(poolSize) exceeds the \(pool.count) training images left for the pool "
          + "(\(labels.count) in the dataset, less validation \(validation) and the initial "
          + "\(classes * initialPerClass)); set pool-size to at most \(pool.count), or 0 for all"
      )
    }
    return LabelledSet(
      labelled: initial,
      pool: pool.prefix(poolSize).sorted(),
      validation: validationSet.sorted(),
      unused: pool.dropFirst(poolSize).sorted()
    )
  }
}
