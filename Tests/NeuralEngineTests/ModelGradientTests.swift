import Testing

@testable import NeuralEngine

/// The whole network's loss (cross-entropy + L2 on fc1, dropout on with fixed masks) against
/// finite differences, for every parameter tensor.
@Suite struct ModelGradientTests {
  static let architecture = BayesianCNN.Architecture(
    imageSize: 10,
    inputChannels: 1,
    convolutionChannels: 3,
    kernelSize: 3,
    hiddenUnits: 6,
    classCount: 4
  )
  /// Small, because a conv1 weight moves every downstream ReLU and pool input: steps of 1e-3
  /// already cross kinks here (seen in practice), while Float loss noise stays below 1e-3.
  static let step: Float = 2e-4

  @Test(arguments: ModelParameters.names)
  func lossGradientMatchesFiniteDifferences(parameter name: String) throws {
    let engine = try ComputeEngine()
    var generator = SeededGenerator(seed: 30)
    var model = BayesianCNN(architecture: Self.architecture, generator: &generator)
    // Non-zero biases so that a wrong bias gradient cannot hide behind zeros.
    for bias in ["conv1.bias", "conv2.bias", "fc1.bias", "fc2.bias"] {
      let shape = model.parameters[bias].shape
      model.parameters[bias] = Tensor(
        shape: shape,
        scalars: randomFloats(shape[0], seed: 31, scale: 0.1)
      )
    }
    let batch = 3
    let images = randomFloats(batch * Self.architecture.pixelCount, seed: 32)
    let labels: [Int32] = [1, 3, 0]
    let workspace = try engine.workspace(
      architecture: Self.architecture,
      batch: batch,
      training: true
    )
    let penalty: Float = 0.05
    let maskSeed: UInt64 = 33

    func lossAndGradients(_ parameters: ModelParameters) throws -> (Double, ModelParameters) {
      images.withUnsafeBufferPointer {
        workspace.load(images: $0, rows: 0..<batch, labels: labels)
      }
      try workspace.loadConvolutionParameters(parameters)
      var gradients = ModelParameters(zerosFor: Self.architecture)
      let loss = try workspace.trainingStep(
        parameters: parameters,
        penalty: penalty,
        maskSeed: maskSeed,
        gradients: &gradients
      )
      return (loss, gradients)
    }

    let (_, gradients) = try lossAndGradients(model.parameters)
    let analytic = gradients[name].scalars
    var values = model.parameters[name].scalars
    let indices = sampleIndices(values.count, count: 24)
    let shape = model.parameters[name].shape
    let numeric = numericalGradient(of: &values, at: indices, step: Self.step) { perturbed in
      var parameters = model.parameters
      parameters[name] = Tensor(shape: shape, scalars: perturbed)
      return (try? lossAndGradients(parameters).0) ?? .nan
    }
    let mismatch = gradientMismatch(
      analytic: indices.map { Double(analytic[$0]) },
      numeric: numeric
    )
    #expect(mismatch == nil, "\(name): \(mismatch ?? "")")
    #expect(analytic.contains { $0 != 0 }, "\(name) gradient is all zero")
  }
}
