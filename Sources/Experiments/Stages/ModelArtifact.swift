import Foundation
import HDF5Store
import MNIST
import NeuralEngine

/// The `model` artifact of a train stage: the trained weights in the engine's checkpoint layout
/// (PyTorch `state_dict` names and shapes, loadable with h5py + torch).
///
/// Only the weights are kept: downstream stages never resume training (each round trains a
/// fresh model), and Adam's moments would triple the cache's size.
enum ModelArtifact {
  static func write(_ model: BayesianCNN, to url: URL) throws {
    let file = try HDF5File.create(url.path)
    try model.write(to: file)
    try file.close()
  }

  static func read(from url: URL) throws -> BayesianCNN {
    let file = try HDF5File.open(url.path)
    defer { try? file.close() }
    return try BayesianCNN(readingFrom: file)
  }
}

extension BayesianCNN.Architecture {
  /// The paper's architecture sized for a dataset: its image side, channels and classes (for
  /// MNIST, exactly ``BayesianCNN/Architecture/paper``).
  init(facts: DatasetFacts) {
    self.init(
      imageSize: facts.imageSide,
      inputChannels: facts.imageShape.first ?? 1,
      classCount: facts.classCount
    )
  }
}
