/// The deterministic front of the network on oneDNN: conv → ReLU → conv → ReLU → 2x2 max-pool.
///
/// Shapes (square images, valid stride-1 convolutions, `k` the kernel size):
/// input `[N, Cin, S, S]` → conv1 `[N, C, S-k+1, ·]` → conv2 `[N, C, S-2k+2, ·]` → pool
/// `[N, C, P, P]` with `P = (S-2k+2) / 2`, returned flattened as `[N, C·P·P]` in
/// (channel, row, column) order. The paper's model: 28 → 25 → 22 → 11, 3872 features.
///
/// The convolutions let oneDNN choose their layouts (`format_tag_any`: blocked `nChw8c` on
/// AVX2, `nhwc` for oneDNN 2.6's `brgconv` on AVX-512), so activations stay in that layout from
/// conv1 to the pool; bias and ReLU are fused into each convolution. Plain layouts appear only
/// at the edges: the input images, the weights in PyTorch's `[O, I, kh, kw]` order, and the
/// flattened features. Every primitive and buffer is created once per batch size (creating a
/// primitive runs oneDNN's JIT).
///
/// The weights are reordered into the convolutions' layouts by ``prepareWeights()``, once
/// each time the caller writes them (once per model for prediction, once per step for
/// training), never inside ``forward()``.
///
/// Three steps are hand-written kernels on oneDNN's buffers instead of primitives,
/// because they are memory-bound passes that fuse: the max-pool writes the plain features
/// directly (``MaxPooling``); its backward folds in ReLU2's; and conv1's weight gradient folds
/// in ReLU1's backward and reads the single-channel images unpadded
/// (``ImageConvolutionGradient``).
final class ConvolutionStack {
  /// The sizes of one stack.
  struct Shape: Hashable, Sendable {
    var batch: Int
    var inputChannels: Int
    var imageSize: Int
    var channels: Int
    var kernelSize: Int

    var firstOutputSize: Int { imageSize - kernelSize + 1 }
    var secondOutputSize: Int { firstOutputSize - kernelSize + 1 }
    var pooledSize: Int { secondOutputSize / 2 }
    /// Features per image after the pool: `C · P · P`.
    var featureCount: Int { channels * pooledSize * pooledSize }
  }

  let shape: Shape
  let isTraining: Bool
  private let context: DNNLContext

  /// Input images `[N, Cin, S, S]`, plain; the caller writes them before ``forward()``.
  let input: DNNLMemory
  /// `conv1.weight [C, Cin, k, k]`, plain; written by the caller.
  let conv1Weight: DNNLMemory
  /// `conv1.bias [C]`.
  let conv1Bias: DNNLMemory
  /// `conv2.weight [C, C, k, k]`, plain.
  let conv2Weight: DNNLMemory
  /// `conv2.bias [C]`.
  let conv2Bias: DNNLMemory
  /// Pooled features `[N, C, P, P]`, plain, valid after ``forward()``.
  let features: DNNLMemory

  /// Gradient of the loss with respect to ``features``; the caller writes it before
  /// ``backward()``. Nil for inference stacks.
  let featuresGradient: DNNLMemory?
  /// Parameter gradients in the parameters' plain layouts, valid after ``backward()``.
  let conv1WeightGradient: DNNLMemory?
  let conv1BiasGradient: DNNLMemory?
  let conv2WeightGradient: DNNLMemory?
  let conv2BiasGradient: DNNLMemory?

  /// The implementation oneDNN chose for the big convolution, e.g. "jit:avx512_core".
  let implementation: String
  /// The implementation oneDNN chose for the first convolution.
  let firstImplementation: String
  /// The physical layouts of the stack's memories in oneDNN's notation
  /// (``MemoryDescriptor/formatTag``), by role: `conv1.output`, `conv2.output` (activations),
  /// `conv1.weights`, `conv2.weights`, and in training stacks the layouts of the backward
  /// primitives' arguments.
  let layouts: [(role: String, format: String)]
  /// The lanes the pooling kernels run with (16 or 8), from the pool input's layout and the
  /// kernel width limit.
  let poolingLanes: Int
  /// How many times ``prepareWeights()`` has run (for tests of when weights are reordered).
  private(set) var weightPreparations = 0

  /// One step of a pass: a oneDNN primitive, or a hand-written kernel that runs once the
  /// stream has finished everything before it.
  private enum Step {
    case primitive(BoundPrimitive)
    case kernel(() -> Void)
  }

  private var weightSteps: [Step] = []
  private var forwardSteps: [Step] = []
  private var backwardSteps: [Step] = []

  /// - Parameters:
  ///   - activations: the layout of the convolutions' activations (and their gradients):
  ///     oneDNN's choice, or `nhwc` forced.
  ///   - kernelLanes: the widest vector of the hand-written kernels (16 or 8; the machine's
  ///     by default). Every width gives the same bits; tests compare them.
  init(
    shape: Shape,
    training: Bool,
    context: DNNLContext,
    activations: ActivationLayoutPreference = .chosenByOneDNN,
    kernelLanes: Int = KernelVectorWidth.machine
  ) throws {
    precondition(shape.batch > 0 && shape.pooledSize > 0, "convolution stack too small: \(shape)")
    self.shape = shape
    self.isTraining = training
    self.context = context
    let (n, cin, s, c, k) = (
      shape.batch, shape.inputChannels, shape.imageSize, shape.channels, shape.kernelSize
    )
    let (s1, s2, p) = (shape.firstOutputSize, shape.secondOutputSize, shape.pooledSize)

    input = try DNNLMemory(
      MemoryDescriptor(dimensions: [n, cin, s, s], layout: .nchw),
      in: context
    )
    let weight1Descriptor = try MemoryDescriptor(dimensions: [c, cin, k, k], layout: .oihw)
    let weight2Descriptor = try MemoryDescriptor(dimensions: [c, c, k, k], layout: .oihw)
    let biasDescriptor = try MemoryDescriptor(dimensions: [c], layout: .x)
    conv1Weight = try DNNLMemory(weight1Descriptor, in: context)
    conv2Weight = try DNNLMemory(weight2Descriptor, in: context)
    conv1Bias = try DNNLMemory(biasDescriptor, in: context)
    conv2Bias = try DNNLMemory(biasDescriptor, in: context)

    let requestedLayout: MemoryDescriptor.Layout = activations == .nhwc ? .nhwc : .any
    /// Activations `[n, c, side, side]` in the requested layout.
    func activation(_ side: Int) throws -> MemoryDescriptor {
      try MemoryDescriptor(dimensions: [n, c, side, side], layout: requestedLayout)
    }
    var weightSteps: [Step] = []
    var forward: [Step] = []
    // conv1 + bias + ReLU
    let conv1 = try context.convolutionForward(
      // (Forced NHWC asks for NHWC images too: with `any` there, oneDNN 2.6 falls back to its
      // reference convolution for an NHWC destination.)
      source: MemoryDescriptor(dimensions: [n, cin, s, s], layout: requestedLayout),
      weights: MemoryDescriptor(dimensions: [c, cin, k, k], layout: .any),
      bias: biasDescriptor,
      destination: activation(s1),
      training: training,
      fusedReLU: true
    )
    let conv1Source = try Self.adapt(input, to: conv1.descriptor(for: .source), context, &forward)
    let conv1Weights = try Self.adapt(
      conv1Weight,
      to: conv1.descriptor(for: .weights),
      context,
      &weightSteps
    )
    let conv1Output = try DNNLMemory(conv1.descriptor(for: .destination), in: context)
    forward.append(
      .primitive(
        conv1.bind([
          (.source, conv1Source), (.weights, conv1Weights), (.bias, conv1Bias),
          (.destination, conv1Output),
        ])
      )
    )
    // conv2 + bias + ReLU, reading conv1's blocked output directly
    let conv2 = try context.convolutionForward(
      source: conv1Output.descriptor,
      weights: MemoryDescriptor(dimensions: [c, c, k, k], layout: .any),
      bias: biasDescriptor,
      destination: activation(s2),
      training: training,
      fusedReLU: true
    )
    implementation = conv2.implementation
    firstImplementation = conv1.implementation
    let conv2Source = try Self.adapt(
      conv1Output,
      to: conv2.descriptor(for: .source),
      context,
      &forward
    )
    let conv2Weights = try Self.adapt(
      conv2Weight,
      to: conv2.descriptor(for: .weights),
      context,
      &weightSteps
    )
    let conv2Output = try DNNLMemory(conv2.descriptor(for: .destination), in: context)
    forward.append(
      .primitive(
        conv2.bind([
          (.source, conv2Source), (.weights, conv2Weights), (.bias, conv2Bias),
          (.destination, conv2Output),
        ])
      )
    )
    // 2x2 max-pool by hand, straight into the plain (channel, row, column) feature order
    let (poolSource, readablePoolLayout) = try Self.kernelReadable(conv2Output, context, &forward)
    var poolLayout = readablePoolLayout
    poolLayout.laneLimit = kernelLanes
    poolingLanes = poolLayout.kernelLanes
    let plainFeatures = try MemoryDescriptor(dimensions: [n, c, p, p], layout: .nchw)
    let features = try DNNLMemory(plainFeatures, in: context)
    self.features = features
    forward.append(
      .kernel {
        MaxPooling.forward(source: poolSource.floats, layout: poolLayout, pooled: features.floats)
      }
    )
    forwardSteps = forward
    var layouts: [(role: String, format: String)] = [
      ("conv1.weights", conv1Weights.descriptor.formatTag),
      ("conv1.output", conv1Output.descriptor.formatTag),
      ("conv2.weights", conv2Weights.descriptor.formatTag),
      ("conv2.output", conv2Output.descriptor.formatTag),
    ]

    guard training else {
      self.weightSteps = weightSteps
      self.layouts = layouts
      featuresGradient = nil
      conv1WeightGradient = nil
      conv1BiasGradient = nil
      conv2WeightGradient = nil
      conv2BiasGradient = nil
      return
    }

    var backward: [Step] = []
    let featuresGradient = try DNNLMemory(plainFeatures, in: context)
    let conv1WeightGradient = try DNNLMemory(weight1Descriptor, in: context)
    let conv2WeightGradient = try DNNLMemory(weight2Descriptor, in: context)
    let conv1BiasGradient = try DNNLMemory(biasDescriptor, in: context)
    let conv2BiasGradient = try DNNLMemory(biasDescriptor, in: context)
    // pool + ReLU2 backward by hand, into conv2's output layout
    let conv2PreActivationGradient = try DNNLMemory(poolSource.descriptor, in: context)
    backward.append(
      .kernel {
        MaxPooling.backwardThroughReLU(
          source: poolSource.floats,
          layout: poolLayout,
          pooledGradient: featuresGradient.floats,
          sourceGradient: conv2PreActivationGradient.floats
        )
      }
    )
    // conv2 weight/bias gradients
    let conv2Weights2 = try context.convolutionBackwardWeights(
      source: activation(s1),
      weightsGradient: MemoryDescriptor(dimensions: [c, c, k, k], layout: .any),
      biasGradient: biasDescriptor,
      destinationGradient: activation(s2),
      hint: conv2
    )
    try Self.appendWeightsBackward(
      conv2Weights2,
      source: conv1Output,
      destinationGradient: conv2PreActivationGradient,
      weightGradient: conv2WeightGradient,
      biasGradient: conv2BiasGradient,
      context,
      &backward
    )
    // conv2 input gradient
    let conv2Data = try context.convolutionBackwardData(
      sourceGradient: activation(s1),
      weights: MemoryDescriptor(dimensions: [c, c, k, k], layout: .any),
      destinationGradient: activation(s2),
      hint: conv2
    )
    // The backward-data weights: the forward pass's reordered copy when the layouts agree.
    let dataWeights =
      conv2Data.descriptor(for: .weights) == conv2Weights.descriptor
      ? conv2Weights
      : try Self.adapt(conv2Weight, to: conv2Data.descriptor(for: .weights), context, &weightSteps)
    let dataOutputGradient = try Self.adapt(
      conv2PreActivationGradient,
      to: conv2Data.descriptor(for: .destinationGradient),
      context,
      &backward
    )
    let conv1OutputGradient = try DNNLMemory(
      conv2Data.descriptor(for: .sourceGradient),
      in: context
    )
    backward.append(
      .primitive(
        conv2Data.bind([
          (.destinationGradient, dataOutputGradient), (.weights, dataWeights),
          (.sourceGradient, conv1OutputGradient),
        ])
      )
    )
    // ReLU1 backward and conv1 weight/bias gradients by hand (the images need no gradient)
    let (activations, readableActivations) = try Self.kernelReadable(
      conv1Output,
      context,
      &backward
    )
    let (activationGradient, readableGradient) = try Self.kernelReadable(
      conv1OutputGradient,
      context,
      &backward
    )
    var (activationLayout, gradientLayout) = (readableActivations, readableGradient)
    activationLayout.laneLimit = kernelLanes
    gradientLayout.laneLimit = kernelLanes
    let images = input
    let scratch = ImageConvolutionGradient.Scratch(
      channels: c,
      inputChannels: cin,
      kernelSize: k,
      outputSize: s1
    )
    backward.append(
      .kernel {
        ImageConvolutionGradient.backward(
          images: images.floats,
          inputChannels: cin,
          imageSize: s,
          kernelSize: k,
          activations: activations.floats,
          activationLayout: activationLayout,
          activationGradient: activationGradient.floats,
          gradientLayout: gradientLayout,
          weightGradient: conv1WeightGradient.floats,
          biasGradient: conv1BiasGradient.floats,
          scratch: scratch
        )
      }
    )

    layouts += [
      ("conv2.backward_weights.source", conv2Weights2.descriptor(for: .source).formatTag),
      (
        "conv2.backward_weights.weights_gradient",
        conv2Weights2.descriptor(for: .weightsGradient).formatTag
      ),
      ("conv2.backward_data.weights", dataWeights.descriptor.formatTag),
      (
        "conv2.backward_data.destination_gradient",
        dataOutputGradient.descriptor.formatTag
      ),
      ("conv2.backward_data.source_gradient", conv1OutputGradient.descriptor.formatTag),
    ]
    self.weightSteps = weightSteps
    self.layouts = layouts
    self.featuresGradient = featuresGradient
    self.conv1WeightGradient = conv1WeightGradient
    self.conv1BiasGradient = conv1BiasGradient
    self.conv2WeightGradient = conv2WeightGradient
    self.conv2BiasGradient = conv2BiasGradient
    backwardSteps = backward
  }

  // MARK: - Passes

  /// Reorders the weights from ``conv1Weight`` and ``conv2Weight`` into the layouts the
  /// convolutions chose; call it after writing them and before the next ``forward()``.
  func prepareWeights() throws {
    try run(weightSteps)
    weightPreparations += 1
  }

  /// Computes ``features`` from ``input``, the biases and the weights as of the last
  /// ``prepareWeights()``.
  func forward() throws {
    try run(forwardSteps)
  }

  /// Computes the four parameter gradients from ``featuresGradient`` (overwriting them).
  /// - Precondition: a training stack, after ``forward()`` on the same input.
  func backward() throws {
    precondition(isTraining, "backward() needs a training convolution stack")
    try run(backwardSteps)
  }

  private func run(_ steps: [Step]) throws {
    for step in steps {
      switch step {
      case .primitive(let primitive): try primitive.execute(in: context)
      case .kernel(let kernel):
        try context.wait()
        kernel()
      }
    }
    try context.wait()
  }

  // MARK: - Building blocks

  /// `memory` itself when it already has `descriptor`, else a new memory of that layout filled
  /// by a reorder appended to `steps`.
  private static func adapt(
    _ memory: DNNLMemory,
    to descriptor: MemoryDescriptor,
    _ context: DNNLContext,
    _ steps: inout [Step]
  ) throws -> DNNLMemory {
    if memory.descriptor == descriptor { return memory }
    let converted = try DNNLMemory(descriptor, in: context)
    let reorder = try context.reorder(from: memory.descriptor, to: descriptor)
    steps.append(.primitive(reorder.bind([(.reorderInput, memory), (.reorderOutput, converted)])))
    return converted
  }

  /// `memory` with its ``ActivationLayout`` when the hand-written kernels can address it, else
  /// a plain `nchw` copy made by a reorder appended to `steps`.
  private static func kernelReadable(
    _ memory: DNNLMemory,
    _ context: DNNLContext,
    _ steps: inout [Step]
  ) throws -> (DNNLMemory, ActivationLayout) {
    if let layout = memory.descriptor.activationLayout { return (memory, layout) }
    let plain = try MemoryDescriptor(dimensions: memory.descriptor.dimensions, layout: .nchw)
    let converted = try adapt(memory, to: plain, context, &steps)
    guard let layout = converted.descriptor.activationLayout else {
      preconditionFailure("a plain nchw descriptor always has an activation layout")
    }
    return (converted, layout)
  }

  /// Appends a convolution weights-gradient primitive writing plain `weightGradient`.
  private static func appendWeightsBackward(
    _ primitive: DNNLPrimitive,
    source: DNNLMemory,
    destinationGradient: DNNLMemory,
    weightGradient: DNNLMemory,
    biasGradient: DNNLMemory,
    _ context: DNNLContext,
    _ steps: inout [Step]
  ) throws {
    let boundSource = try adapt(source, to: primitive.descriptor(for: .source), context, &steps)
    let boundGradient = try adapt(
      destinationGradient,
      to: primitive.descriptor(for: .destinationGradient),
      context,
      &steps
    )
    let chosen = primitive.descriptor(for: .weightsGradient)
    let blockedWeights =
      chosen == weightGradient.descriptor ? weightGradient : try DNNLMemory(chosen, in: context)
    steps.append(
      .primitive(
        primitive.bind([
          (.source, boundSource), (.destinationGradient, boundGradient),
          (.weightsGradient, blockedWeights), (.biasGradient, biasGradient),
        ])
      )
    )
    if blockedWeights !== weightGradient {
      let reorder = try context.reorder(from: chosen, to: weightGradient.descriptor)
      steps.append(
        .primitive(
          reorder.bind([(.reorderInput, blockedWeights), (.reorderOutput, weightGradient)])
        )
      )
    }
  }
}
