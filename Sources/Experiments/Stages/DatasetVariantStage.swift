import Foundation
import MNIST
import NeuralEngine
import PipelineCore

/// Derives a ``DatasetVariant`` of MNIST from the preprocessed file and writes it in the same
/// HDF5 layout (``MNISTDataset``, with a root attribute `variant`), so that every downstream
/// stage reads it as it reads MNIST and takes its classes and sizes from the file's
/// ``DatasetFacts``. Its random draws (the noise of Repeated MNIST) come from the stage's seed,
/// derived from the root seed and the purpose `dataset` plus the variant's name.
public struct DatasetVariantStage: Stage {
  /// The derivation's parameters.
  public struct Parameters: Codable, Sendable, Hashable {
    /// The variant to derive (never `mnist`, which is the preprocessed file itself).
    public var variant: DatasetVariant
  }

  /// The stage kind, part of every cache key.
  public static let kind = "dataset-variant"
  /// Bumped whenever the stage's logic changes.
  public static let version = 1
  /// The semantic parameters (all enter the cache key).
  public var parameters: Parameters
  /// The HDF5 artifacts the stage writes (named like the preprocess stage's).
  public var outputs: [String] { ["mnist"] }

  /// Creates the stage.
  public init(variant: DatasetVariant) { parameters = Parameters(variant: variant) }

  /// Runs the stage; see the type's documentation.
  public func run(_ context: StageContext) throws {
    let base = try MNISTDataset(contentsOf: context.inputURL("data").path)
    var generator = SeededGenerator(seed: context.seed ?? 0)
    try parameters.variant.derive(base, generator: &generator)
      .write(to: context.outputURL("mnist").path)
  }
}
