import Foundation
import HDF5Store
import MNIST
import PipelineCore

/// Parses the downloaded idx files (magic numbers, dimensions, counts and label range all
/// validated), scales pixels to [0, 1] by dividing by 255, and writes one HDF5 file with
/// `train/images [60000,28,28]`, `train/labels [60000]`, `test/images [10000,28,28]`,
/// `test/labels [10000]` and the source digests as attributes.
public struct PreprocessStage: Stage {
  /// The preprocessing's parameters: the scaling applied.
  public struct Parameters: Codable, Sendable, Hashable {
    /// How pixels are scaled (the paper: divide by 255).
    public var scaling = MNISTDataset.scaling
  }

  /// The stage kind, part of every cache key.
  public static let kind = "preprocess"
  /// Bumped whenever the stage\'s logic changes.
  public static let version = 1
  /// The semantic parameters (all enter the cache key).
  public var parameters = Parameters()
  /// The HDF5 artifacts the stage writes.
  public var outputs: [String] { ["mnist"] }

  /// Creates the stage.
  public init() {}

  /// Runs the stage; see the type\'s documentation.
  public func run(_ context: StageContext) throws {
    let rawURL = try context.inputURL("raw")
    let raw = try HDF5File.open(rawURL.path)
    defer { try? raw.close() }
    func split(_ split: MNISTSplit) throws -> MNISTRawSplit {
      let files = MNISTFile.files(of: split)
      let label = "\(rawURL.path):\(files.images.name)"
      let pixels = try MNISTIDX.parseImages(
        try raw.read(files.images.name, as: UInt8.self).values,
        file: label,
        expectedCount: files.images.itemCount
      )
      let labels = try MNISTIDX.parseLabels(
        try raw.read(files.labels.name, as: UInt8.self).values,
        file: "\(rawURL.path):\(files.labels.name)",
        expectedCount: files.labels.itemCount
      )
      return MNISTRawSplit(pixels: pixels, labels: labels)
    }
    let data = MNISTRawData(train: try split(.train), test: try split(.test))
    try MNISTDataset(scaling: data).write(to: context.outputURL("mnist").path)
  }
}
