import Foundation
import MNIST
import PipelineCore

/// Derives a dataset variant from the preprocessed MNIST file, in the same HDF5 layout (see
/// ``MNISTDataset``), so every later stage reads its classes and sizes from the file's
/// ``DatasetFacts``.
///
/// `digits:d1,...,dk` keeps the training and test images of those digits, in MNIST's order, and
/// relabels digit `d_j` as `j`; the class names are the digits (`"2"`, `"8"`).
public struct DatasetStage: Stage {
  /// The derivation's semantic parameters.
  public struct Parameters: Codable, Sendable, Hashable {
    /// The variant derived (never `mnist`, which needs no stage).
    public var variant: DatasetVariant
  }

  /// The stage kind, part of every cache key.
  public static let kind = "dataset"
  /// Bumped whenever the stage's logic changes.
  public static let version = 1
  /// The semantic parameters (all enter the cache key).
  public var parameters: Parameters
  /// The HDF5 artifact the stage writes, named like the preprocess stage's.
  public var outputs: [String] { ["mnist"] }

  /// Creates the stage.
  public init(variant: DatasetVariant) { parameters = Parameters(variant: variant) }

  /// Runs the stage; see the type's documentation.
  public func run(_ context: StageContext) throws {
    let source = try MNISTDataset(contentsOf: context.inputURL("data").path)
    try Self.derive(parameters.variant, from: source).write(to: context.outputURL("mnist").path)
  }

  /// The variant's images and labels, a pure function of MNIST.
  static func derive(_ variant: DatasetVariant, from source: MNISTDataset) -> MNISTDataset {
    switch variant {
    case .mnist:
      return source
    case .digits(let digits):
      let pixels = MNISTDataset.pixelsPerImage
      func keep(_ images: [Float], _ labels: [Int32]) -> ([Float], [Int32]) {
        var keptImages: [Float] = []
        var keptLabels: [Int32] = []
        for (index, label) in labels.enumerated() {
          guard let position = digits.firstIndex(of: Int(label)) else { continue }
          keptImages += images[(index * pixels)..<((index + 1) * pixels)]
          keptLabels.append(Int32(position))
        }
        return (keptImages, keptLabels)
      }
      let train = keep(source.trainImages, source.trainLabels)
      let test = keep(source.testImages, source.testLabels)
      return MNISTDataset(
        trainImages: train.0,
        trainLabels: train.1,
        testImages: test.0,
        testLabels: test.1,
        classNames: digits.map { source.classNames[$0] },
        variant: variant.description
      )
    }
  }
}
