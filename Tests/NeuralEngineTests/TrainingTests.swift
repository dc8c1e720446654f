import Testing

@testable import NeuralEngine

@Suite struct TrainingTests {
  static let architecture = BayesianCNN.Architecture(
    imageSize: 12,
    inputChannels: 1,
    convolutionChannels: 4,
    kernelSize: 3,
    hiddenUnits: 16,
    classCount: 3
  )

  static func data(_ count: Int) -> (Tensor, [Int]) {
    var generator = SeededGenerator(seed: 50)
    let images = Tensor(
      shape: [count, 1, 12, 12],
      scalars: (0..<(count * 144)).map { _ in generator.nextUniformFloat() }
    )
    return (images, (0..<count).map { $0 % 3 })
  }

  static let configuration = TrainingConfiguration(epochs: 4, batchSize: 8)

  @Test func sameSeedGivesBitIdenticalWeights() throws {
    let (images, labels) = Self.data(21)  // batches of 8, 8 and a partial 5
    var first = SeededGenerator(seed: 51)
    var second = SeededGenerator(seed: 51)
    let a = try ComputeEngine().train(
      images: images,
      labels: labels,
      configuration: Self.configuration,
      architecture: Self.architecture,
      generator: &first
    )
    let b = try ComputeEngine().train(
      images: images,
      labels: labels,
      configuration: Self.configuration,
      architecture: Self.architecture,
      generator: &second
    )
    #expect(a == b)
    #expect(first == second)
    // And training changed the model.
    var fresh = SeededGenerator(seed: 51)
    #expect(a != BayesianCNN(architecture: Self.architecture, generator: &fresh))
  }

  /// The hand-written kernels' vector width (SIMD16 on AVX-512 machines, SIMD8 elsewhere)
  /// changes no bit of training or prediction, since every lane sums in the same order: with
  /// oneDNN's layouts, and with NHWC forced, where 32 channels run 16 lanes on every machine.
  @Test(arguments: ActivationLayoutPreference.allCases)
  func kernelWidthDoesNotChangeTrainedWeights(activations: ActivationLayoutPreference) throws {
    let architecture = BayesianCNN.Architecture(
      imageSize: 12,
      inputChannels: 1,
      convolutionChannels: 32,
      kernelSize: 3,
      hiddenUnits: 16,
      classCount: 3
    )
    let (images, labels) = Self.data(21)
    var models: [BayesianCNN] = []
    var predictions: [[Float]] = []
    for lanes in [8, 16] {
      let engine = try ComputeEngine(activationLayout: activations, kernelLanes: lanes)
      var generator = SeededGenerator(seed: 54)
      let model = try engine.train(
        images: images,
        labels: labels,
        configuration: Self.configuration,
        architecture: architecture,
        generator: &generator
      )
      models.append(model)
      predictions.append(try engine.predictProbabilities(model, images: images).scalars)
      let stack = try engine.workspace(architecture: architecture, batch: 8, training: true)
        .convolution
      if activations == .nhwc { #expect(stack.poolingLanes == lanes) }
    }
    #expect(models[0] == models[1])
    #expect(predictions[0] == predictions[1])
    var fresh = SeededGenerator(seed: 54)
    #expect(models[0] != BayesianCNN(architecture: architecture, generator: &fresh))
  }

  @Test func resumingFromAnEpochIsBitIdentical() throws {
    let (images, labels) = Self.data(21)
    let engine = try ComputeEngine()
    var uninterrupted = TrainingState(
      architecture: Self.architecture,
      generator: SeededGenerator(seed: 52)
    )
    try engine.train(
      &uninterrupted,
      images: images,
      labels: labels,
      configuration: Self.configuration
    )

    var interrupted = TrainingState(
      architecture: Self.architecture,
      generator: SeededGenerator(seed: 52)
    )
    var losses: [Double] = []
    let finished = try engine.train(
      &interrupted,
      images: images,
      labels: labels,
      configuration: Self.configuration
    ) { report in
      losses.append(report.meanLoss)
      return report.completedEpochs == 2 ? .stop : .proceed
    }
    #expect(!finished)
    #expect(interrupted.completedEpochs == 2)
    #expect(losses.count == 2 && losses.allSatisfy(\.isFinite))
    // A fresh engine, as after a restart.
    var resumed = interrupted
    try ComputeEngine().train(
      &resumed,
      images: images,
      labels: labels,
      configuration: Self.configuration
    )
    #expect(resumed == uninterrupted)
    #expect(resumed.optimizer.step == 4 * 3)
  }

  @Test func lossDecreasesOnALearnableTask() throws {
    // Class = which third of the image is bright: easy to learn in a few epochs.
    let count = 60
    var generator = SeededGenerator(seed: 53)
    var pixels = [Float](repeating: 0, count: count * 144)
    var labels: [Int] = []
    for image in 0..<count {
      let label = image % 3
      labels.append(label)
      for row in 0..<12 {
        for column in 0..<12 {
          let bright = column / 4 == label
          pixels[image * 144 + row * 12 + column] =
            (bright ? 0.8 : 0.1) + 0.1 * generator.nextUniformFloat()
        }
      }
    }
    let images = Tensor(shape: [count, 1, 12, 12], scalars: pixels)
    var losses: [Double] = []
    var state = TrainingState(architecture: Self.architecture, generator: generator)
    try ComputeEngine().train(
      &state,
      images: images,
      labels: labels,
      configuration: TrainingConfiguration(epochs: 30, batchSize: 16, weightDecay: 0.1)
    ) { report in
      losses.append(report.meanLoss)
      return .proceed
    }
    #expect(losses.last! < 0.5 * losses.first!)
    let probabilities = try ComputeEngine().predictProbabilities(state.model, images: images)
    let correct = (0..<count).filter { image in
      let row = probabilities.scalars[(image * 3)..<(image * 3 + 3)]
      return row.firstIndex(of: row.max()!)! - image * 3 == labels[image]
    }.count
    #expect(correct >= count * 9 / 10)
  }
}
