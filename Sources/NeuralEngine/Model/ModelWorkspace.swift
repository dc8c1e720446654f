/// Everything one batch size needs to run ``BayesianCNN``: the oneDNN convolution stack and
/// the ``DenseHead`` with its buffers, allocated once and reused for every batch of that size.
final class ModelWorkspace {
  let architecture: BayesianCNN.Architecture
  let batch: Int
  let convolution: ConvolutionStack
  /// The dense head, `batch` rows.
  let head: DenseHead

  /// Labels of the batch, written by the caller before a training step.
  let labels: ScratchBuffer<Int32>
  /// Softmax outputs `[N, C]`, valid after ``forward(parameters:dropout:)``.
  var probabilities: ScratchBuffer<Float> { head.probabilities }

  init(
    architecture: BayesianCNN.Architecture,
    batch: Int,
    training: Bool,
    context: DNNLContext,
    activationLayout: ActivationLayoutPreference = .chosenByOneDNN,
    kernelLanes: Int = KernelVectorWidth.machine
  ) throws {
    self.architecture = architecture
    self.batch = batch
    convolution = try ConvolutionStack(
      shape: architecture.convolutionShape(batch: batch),
      training: training,
      context: context,
      activations: activationLayout,
      kernelLanes: kernelLanes
    )
    head = DenseHead(architecture: architecture, capacity: batch, training: training)
    labels = ScratchBuffer(count: batch, zero: 0)
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

  /// Copies the convolution parameters into the oneDNN weight memories and reorders the
  /// weights into the convolutions' layouts: once per model for prediction, once per step for
  /// training.
  func loadConvolutionParameters(_ parameters: ModelParameters) throws {
    Self.copy(parameters.conv1Weight, to: convolution.conv1Weight)
    Self.copy(parameters.conv1Bias, to: convolution.conv1Bias)
    Self.copy(parameters.conv2Weight, to: convolution.conv2Weight)
    Self.copy(parameters.conv2Bias, to: convolution.conv2Bias)
    try convolution.prepareWeights()
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
    head.forward(
      parameters: parameters,
      features: UnsafePointer(convolution.features.floats),
      rows: batch,
      dropout: dropout.map {
        .singlePass(seed: $0.seed, sample: $0.sample, firstImage: $0.firstRow, rows: batch)
      }
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
    try convolution.forward()
    forwardHead(parameters: parameters, dropout: DropoutKey(seed: maskSeed, sample: 0, firstRow: 0))
    let crossEntropy = head.crossEntropy(labels: labels.pointer)
    guard let featuresGradient = convolution.featuresGradient else {
      preconditionFailure("training stack without a features gradient")
    }
    let penaltyValue = head.backward(
      parameters: parameters,
      labels: labels.pointer,
      penalty: penalty,
      gradients: &gradients,
      featuresGradient: featuresGradient.floats
    )
    try convolution.backward()
    Self.copy(convolution.conv1WeightGradient, to: &gradients.conv1Weight)
    Self.copy(convolution.conv1BiasGradient, to: &gradients.conv1Bias)
    Self.copy(convolution.conv2WeightGradient, to: &gradients.conv2Weight)
    Self.copy(convolution.conv2BiasGradient, to: &gradients.conv2Bias)
    return crossEntropy + penaltyValue
  }

  // MARK: - Helpers

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
