/// Everything one batch size needs to run ``BayesianCNN``: the oneDNN convolution stack and
/// the dense head's buffers, allocated once and reused for every batch of that size.
///
/// The dense head (`dropout → fc1 → ReLU → dropout → fc2 → softmax`) runs on plain row-major
/// buffers: `[N, F]` features, `[N, H]` hidden units, `[N, C]` logits.
final class ModelWorkspace {
  let architecture: BayesianCNN.Architecture
  let batch: Int
  let convolution: ConvolutionStack

  /// Labels of the batch, written by the caller before a training step.
  let labels: ScratchBuffer<Int32>
  /// Softmax outputs `[N, C]`, valid after ``forward(parameters:dropout:)``.
  let probabilities: ScratchBuffer<Float>

  private let featureMask: ScratchBuffer<Float>
  private let droppedFeatures: ScratchBuffer<Float>
  private let hidden: ScratchBuffer<Float>
  private let hiddenMask: ScratchBuffer<Float>
  private let droppedHidden: ScratchBuffer<Float>
  private let logits: ScratchBuffer<Float>
  private let logitsGradient: ScratchBuffer<Float>
  private let hiddenGradient: ScratchBuffer<Float>
  private var usedDropout = false

  init(
    architecture: BayesianCNN.Architecture,
    batch: Int,
    training: Bool,
    context: DNNLContext
  ) throws {
    self.architecture = architecture
    self.batch = batch
    convolution = try ConvolutionStack(
      shape: architecture.convolutionShape(batch: batch),
      training: training,
      context: context
    )
    let (f, h, c) = (architecture.featureCount, architecture.hiddenUnits, architecture.classCount)
    labels = ScratchBuffer(count: batch, zero: 0)
    probabilities = ScratchBuffer(count: batch * c, zero: 0)
    featureMask = ScratchBuffer(count: batch * f, zero: 0)
    droppedFeatures = ScratchBuffer(count: batch * f, zero: 0)
    hidden = ScratchBuffer(count: batch * h, zero: 0)
    hiddenMask = ScratchBuffer(count: batch * h, zero: 0)
    droppedHidden = ScratchBuffer(count: batch * h, zero: 0)
    logits = ScratchBuffer(count: batch * c, zero: 0)
    logitsGradient = ScratchBuffer(count: batch * c, zero: 0)
    hiddenGradient = ScratchBuffer(count: batch * h, zero: 0)
  }

  // MARK: - Inputs

  /// Copies images `rows` of `images` (`[*, pixels]` row-major) into the convolution input,
  /// and their labels when given.
  func load(images: UnsafeBufferPointer<Float>, rows: some Collection<Int>, labels: [Int32]? = nil)
  {
    precondition(rows.count == batch, "\(rows.count) rows for a workspace of batch \(batch)")
    let pixels = architecture.pixelCount
    guard let base = images.baseAddress else { return }
    for (slot, row) in rows.enumerated() {
      (convolution.input.floats + slot * pixels).update(from: base + row * pixels, count: pixels)
      if let labels { self.labels.pointer[slot] = labels[row] }
    }
  }

  /// Copies the convolution parameters into the oneDNN weight memories.
  func loadConvolutionParameters(_ parameters: ModelParameters) {
    Self.copy(parameters.conv1Weight, to: convolution.conv1Weight)
    Self.copy(parameters.conv1Bias, to: convolution.conv1Bias)
    Self.copy(parameters.conv2Weight, to: convolution.conv2Weight)
    Self.copy(parameters.conv2Bias, to: convolution.conv2Bias)
  }

  // MARK: - Forward

  /// Which dropout masks a stochastic pass uses: mask rows come from
  /// `DropoutMaskSampler.rowGenerator(seed:layer:sample:row:)` with layer 0 (features) or 1
  /// (hidden), the given sample, and row `firstRow + position in the batch`.
  struct DropoutKey {
    var seed: UInt64
    var sample: Int
    var firstRow: Int
  }

  /// Runs the whole network on the loaded images (parameters already loaded for the
  /// convolutions); `dropout` nil means deterministic. Writes ``probabilities``.
  func forward(parameters: ModelParameters, dropout: DropoutKey?) throws {
    try convolution.forward()
    forwardHead(parameters: parameters, dropout: dropout)
  }

  /// The dense head on the current convolution features.
  func forwardHead(parameters: ModelParameters, dropout: DropoutKey?) {
    let (n, f, h, c) = (
      batch, architecture.featureCount, architecture.hiddenUnits, architecture.classCount
    )
    usedDropout = dropout != nil
    let features = convolution.features.floats
    var firstInput = UnsafePointer(features)
    if let dropout {
      Self.fillMasks(
        featureMask.pointer,
        rows: n,
        width: f,
        rate: architecture.featureDropout,
        layer: 0,
        key: dropout
      )
      Dropout.forward(
        input: features,
        mask: featureMask.pointer,
        output: droppedFeatures.pointer,
        count: n * f
      )
      firstInput = UnsafePointer(droppedFeatures.pointer)
    }
    parameters.fc1Weight.withUnsafeBufferPointer { weight in
      parameters.fc1Bias.withUnsafeBufferPointer { bias in
        Dense.forward(
          input: firstInput,
          weight: weight.baseAddress!,
          bias: bias.baseAddress!,
          output: hidden.pointer,
          batch: n,
          inputs: f,
          outputs: h
        )
      }
    }
    ReLU.forward(input: hidden.pointer, output: hidden.pointer, count: n * h)
    var secondInput = UnsafePointer(hidden.pointer)
    if let dropout {
      Self.fillMasks(
        hiddenMask.pointer,
        rows: n,
        width: h,
        rate: architecture.hiddenDropout,
        layer: 1,
        key: dropout
      )
      Dropout.forward(
        input: hidden.pointer,
        mask: hiddenMask.pointer,
        output: droppedHidden.pointer,
        count: n * h
      )
      secondInput = UnsafePointer(droppedHidden.pointer)
    }
    parameters.fc2Weight.withUnsafeBufferPointer { weight in
      parameters.fc2Bias.withUnsafeBufferPointer { bias in
        Dense.forward(
          input: secondInput,
          weight: weight.baseAddress!,
          bias: bias.baseAddress!,
          output: logits.pointer,
          batch: n,
          inputs: h,
          outputs: c
        )
      }
    }
    SoftmaxCrossEntropy.softmax(
      logits: logits.pointer,
      probabilities: probabilities.pointer,
      rows: n,
      classes: c
    )
  }

  // MARK: - Training

  /// One forward and backward pass over the loaded batch with dropout masks from `maskSeed`.
  ///
  /// Overwrites `gradients` with the gradient of
  /// `mean cross-entropy + penalty · Σ fc1.weight²` and returns that loss.
  func trainingStep(
    parameters: ModelParameters,
    penalty: Float,
    maskSeed: UInt64,
    gradients: inout ModelParameters
  ) throws -> Double {
    precondition(convolution.isTraining, "training step on an inference workspace")
    let (n, f, h, c) = (
      batch, architecture.featureCount, architecture.hiddenUnits, architecture.classCount
    )
    try convolution.forward()
    forwardHead(parameters: parameters, dropout: DropoutKey(seed: maskSeed, sample: 0, firstRow: 0))
    let crossEntropy = SoftmaxCrossEntropy.forward(
      logits: logits.pointer,
      labels: labels.pointer,
      probabilities: probabilities.pointer,
      rows: n,
      classes: c
    )

    SoftmaxCrossEntropy.backward(
      probabilities: probabilities.pointer,
      labels: labels.pointer,
      logitsGradient: logitsGradient.pointer,
      rows: n,
      classes: c
    )
    parameters.fc2Weight.withUnsafeBufferPointer { weight in
      gradients.fc2Weight.withUnsafeMutableBufferPointer { weightGradient in
        gradients.fc2Bias.withUnsafeMutableBufferPointer { biasGradient in
          Dense.backward(
            outputGradient: logitsGradient.pointer,
            input: droppedHidden.pointer,
            weight: weight.baseAddress!,
            inputGradient: hiddenGradient.pointer,
            weightGradient: weightGradient.baseAddress!,
            biasGradient: biasGradient.baseAddress!,
            batch: n,
            inputs: h,
            outputs: c
          )
        }
      }
    }
    Dropout.backward(
      outputGradient: hiddenGradient.pointer,
      mask: hiddenMask.pointer,
      inputGradient: hiddenGradient.pointer,
      count: n * h
    )
    ReLU.backward(
      output: hidden.pointer,
      outputGradient: hiddenGradient.pointer,
      inputGradient: hiddenGradient.pointer,
      count: n * h
    )
    var penaltyValue = 0.0
    guard let featuresGradient = convolution.featuresGradient else {
      preconditionFailure("training stack without a features gradient")
    }
    parameters.fc1Weight.withUnsafeBufferPointer { weight in
      gradients.fc1Weight.withUnsafeMutableBufferPointer { weightGradient in
        gradients.fc1Bias.withUnsafeMutableBufferPointer { biasGradient in
          Dense.backward(
            outputGradient: hiddenGradient.pointer,
            input: droppedFeatures.pointer,
            weight: weight.baseAddress!,
            inputGradient: featuresGradient.floats,
            weightGradient: weightGradient.baseAddress!,
            biasGradient: biasGradient.baseAddress!,
            batch: n,
            inputs: f,
            outputs: h
          )
        }
        penaltyValue = WeightPenalty.forwardAndBackward(
          weights: weight,
          coefficient: penalty,
          gradient: weightGradient
        )
      }
    }
    Dropout.backward(
      outputGradient: featuresGradient.floats,
      mask: featureMask.pointer,
      inputGradient: featuresGradient.floats,
      count: n * f
    )
    try convolution.backward()
    Self.copy(convolution.conv1WeightGradient, to: &gradients.conv1Weight)
    Self.copy(convolution.conv1BiasGradient, to: &gradients.conv1Bias)
    Self.copy(convolution.conv2WeightGradient, to: &gradients.conv2Weight)
    Self.copy(convolution.conv2BiasGradient, to: &gradients.conv2Bias)
    return crossEntropy + penaltyValue
  }

  // MARK: - Helpers

  /// Fills `rows` mask rows of `width` units, each from its own row generator.
  static func fillMasks(
    _ masks: UnsafeMutablePointer<Float>,
    rows: Int,
    width: Int,
    rate: Float,
    layer: Int,
    key: DropoutKey
  ) {
    let sampler = DropoutMaskSampler(rate: rate)
    // Rows have their own generators, so the parallel split cannot change the masks.
    Parallel.forEachChunk(of: rows, grain: max(1, 32_768 / max(width, 1))) { range in
      for row in range {
        var generator = DropoutMaskSampler.rowGenerator(
          seed: key.seed,
          layer: layer,
          sample: key.sample,
          row: key.firstRow + row
        )
        sampler.fill(masks + row * width, count: width, generator: &generator)
      }
    }
  }

  private static func copy(_ tensor: Tensor, to memory: DNNLMemory) {
    precondition(tensor.count <= memory.count, "tensor larger than its oneDNN memory")
    tensor.withUnsafeBufferPointer { source in
      memory.floats.update(from: source.baseAddress!, count: source.count)
    }
  }

  private static func copy(_ memory: DNNLMemory?, to tensor: inout Tensor) {
    guard let memory else { preconditionFailure("missing gradient memory") }
    tensor.withUnsafeMutableBufferPointer { destination in
      destination.baseAddress!.update(from: memory.floats, count: destination.count)
    }
  }
}
