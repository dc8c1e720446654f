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
    return try BayesianCNN(readingFrom: file, architecture: architecture(of: file))
  }

  /// The paper's architecture with as many classes as the file's output layer has (a model of
  /// a dataset variant, such as the two digits of Figure 3, has fewer than MNIST's ten).
  static func architecture(of file: HDF5File) throws -> BayesianCNN.Architecture {
    var architecture = BayesianCNN.Architecture.paper
    let output = ModelParameters.names[ModelParameters.names.count - 1]
    if file.exists(output), let classes = try file.read(output, as: Float.self).shape.first {
      architecture.classCount = classes
    }
    return architecture
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
