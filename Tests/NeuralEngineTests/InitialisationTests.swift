import TestSupport
import Testing

@testable import NeuralEngine

/// The two Glorot-uniform fan rules, pinned against hand-computed limits for the paper's
/// network (`sqrt(6 / (fan_in + fan_out))`), and the last-batch policy.
@Suite struct InitialisationTests {
  static let paperShapes = BayesianCNN.Architecture.paper.parameterShapes

  @Test func keras03LimitsUseTheFilterCountAsFanOut() {
    let limits = [0, 2, 4, 6].map {
      WeightInitialisation.keras03.limit(shape: Self.paperShapes[$0])
    }
    // conv1: fan_in 1·16 = 16, fan_out 32 -> sqrt(6/48); conv2: 512 + 32 -> sqrt(6/544);
    // fc1: 3872 + 128 -> sqrt(6/4000); fc2: 128 + 10 -> sqrt(6/138).
    #expect(isClose(limits[0], 0.353_553, absolute: 1e-6))
    #expect(isClose(limits[1], 0.105_021, absolute: 1e-6))
    #expect(isClose(limits[2], 0.038_730, absolute: 1e-6))
    #expect(isClose(limits[3], 0.208_514, absolute: 1e-6))
  }

  @Test func glorotLimitsUseTheReceptiveFieldInBothFans() {
    let limits = [0, 2, 4, 6].map { WeightInitialisation.glorot.limit(shape: Self.paperShapes[$0]) }
    // conv1: 16 + 32·16 = 528 -> sqrt(6/528); conv2: 512 + 512 -> sqrt(6/1024).
    #expect(isClose(limits[0], 0.106_600, absolute: 1e-6))
    #expect(isClose(limits[1], 0.076_547, absolute: 1e-6))
    #expect(isClose(limits[2], 0.038_730, absolute: 1e-6))
    #expect(isClose(limits[3], 0.208_514, absolute: 1e-6))
  }

  @Test(arguments: WeightInitialisation.allCases)
  func drawnWeightsFillTheirLimitAndBiasesAreZero(scheme: WeightInitialisation) {
    var generator = SeededGenerator(seed: 7)
    let model = BayesianCNN(initialisation: scheme, generator: &generator)
    let p = model.parameters
    for (tensor, shape) in [
      (p.conv1Weight, Self.paperShapes[0]), (p.conv2Weight, Self.paperShapes[2]),
    ] {
      let limit = scheme.limit(shape: shape)
      let largest = tensor.scalars.map(abs).max()!
      #expect(largest <= limit && largest > 0.99 * limit, "\(scheme) \(shape)")
    }
    #expect(p.conv1Bias.scalars.allSatisfy { $0 == 0 } && p.fc1Bias.scalars.allSatisfy { $0 == 0 })
  }

  @Test func bothSchemesDrawTheSameUniformsScaledDifferently() {
    var a = SeededGenerator(seed: 8)
    var b = SeededGenerator(seed: 8)
    let keras = BayesianCNN(initialisation: .keras03, generator: &a)
    let glorot = BayesianCNN(initialisation: .glorot, generator: &b)
    #expect(a == b)
    let ratio =
      WeightInitialisation.keras03.limit(shape: Self.paperShapes[0])
      / WeightInitialisation.glorot.limit(shape: Self.paperShapes[0])
    for (k, g) in zip(keras.parameters.conv1Weight.scalars, glorot.parameters.conv1Weight.scalars) {
      #expect(isClose(k, g * ratio, absolute: 1e-6))
    }
    #expect(keras.parameters.fc1Weight == glorot.parameters.fc1Weight)
  }

  @Test func theLastBatchIsKeptOrDropped() {
    let keep = TrainingConfiguration(batchSize: 128, lastBatch: .keep)
    let drop = TrainingConfiguration(batchSize: 128, lastBatch: .drop)
    #expect(keep.batches(count: 130) == [0..<128, 128..<130])
    #expect(drop.batches(count: 130) == [0..<128])
    #expect(drop.batches(count: 256) == [0..<128, 128..<256])
    #expect(keep.batches(count: 20) == [0..<20])
    #expect(drop.batches(count: 20) == [0..<20], "a lone partial batch is kept")
  }
}
