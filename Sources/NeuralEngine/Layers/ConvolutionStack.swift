/// The deterministic front of the network on oneDNN: conv → ReLU → conv → ReLU → 2x2 max-pool.
///
/// Shapes (square images, valid stride-1 convolutions, `k` the kernel size):
/// input `[N, Cin, S, S]` → conv1 `[N, C, S-k+1, ·]` → conv2 `[N, C, S-2k+2, ·]` → pool
/// `[N, C, P, P]` with `P = (S-2k+2) / 2`, returned flattened as `[N, C·P·P]` in
/// (channel, row, column) order. The paper's model: 28 → 25 → 22 → 11, 3872 features.
///
/// The convolutions and pooling let oneDNN choose their layouts (`format_tag_any`, blocked
/// `nChw16c` on AVX-512), so activations stay blocked from conv1 to the pool; bias and ReLU are
/// fused into each convolution. Plain layouts appear only at the edges: the input images, the
/// weights in PyTorch's `[O, I, kh, kw]` order, and the flattened features. Every primitive and
/// buffer is created once per batch size (creating a primitive runs oneDNN's JIT).
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

  private var forwardSteps: [BoundPrimitive] = []
  private var backwardSteps: [BoundPrimitive] = []

  init(shape: Shape, training: Bool, context: DNNLContext) throws {
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

    var forward: [BoundPrimitive] = []
    // conv1 + bias + ReLU
    let conv1 = try context.convolutionForward(
      source: MemoryDescriptor(dimensions: [n, cin, s, s], layout: .any),
      weights: MemoryDescriptor(dimensions: [c, cin, k, k], layout: .any),
      bias: biasDescriptor,
      destination: MemoryDescriptor(dimensions: [n, c, s1, s1], layout: .any),
      training: training,
      fusedReLU: true
    )
    let conv1Source = try Self.adapt(input, to: conv1.descriptor(for: .source), context, &forward)
    let conv1Weights = try Self.adapt(
      conv1Weight,
      to: conv1.descriptor(for: .weights),
      context,
      &forward
    )
    let conv1Output = try DNNLMemory(conv1.descriptor(for: .destination), in: context)
    forward.append(
      conv1.bind([
        (.source, conv1Source), (.weights, conv1Weights), (.bias, conv1Bias),
        (.destination, conv1Output),
      ])
    )
    // conv2 + bias + ReLU, reading conv1's blocked output directly
    let conv2 = try context.convolutionForward(
      source: conv1Output.descriptor,
      weights: MemoryDescriptor(dimensions: [c, c, k, k], layout: .any),
      bias: biasDescriptor,
      destination: MemoryDescriptor(dimensions: [n, c, s2, s2], layout: .any),
      training: training,
      fusedReLU: true
    )
    implementation = conv2.implementation
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
      &forward
    )
    let conv2Output = try DNNLMemory(conv2.descriptor(for: .destination), in: context)
    forward.append(
      conv2.bind([
        (.source, conv2Source), (.weights, conv2Weights), (.bias, conv2Bias),
        (.destination, conv2Output),
      ])
    )
    // 2x2 max-pool, then one reorder to the plain (channel, row, column) feature order
    let pool = try context.maxPoolingForward(
      source: conv2Output.descriptor,
      destination: MemoryDescriptor(dimensions: [n, c, p, p], layout: .any),
      training: training
    )
    let poolSource = try Self.adapt(
      conv2Output,
      to: pool.descriptor(for: .source),
      context,
      &forward
    )
    let pooled = try DNNLMemory(pool.descriptor(for: .destination), in: context)
    let workspaceDescriptor = pool.descriptor(for: .workspace)
    let workspace =
      training && workspaceDescriptor.byteCount > 0
      ? try DNNLMemory(workspaceDescriptor, in: context) : nil
    var poolArguments: [(ArgumentRole, DNNLMemory)] = [
      (.source, poolSource), (.destination, pooled),
    ]
    if let workspace { poolArguments.append((.workspace, workspace)) }
    forward.append(pool.bind(poolArguments))
    let plainFeatures = try MemoryDescriptor(dimensions: [n, c, p, p], layout: .nchw)
    features = try Self.adapt(pooled, to: plainFeatures, context, &forward)
    forwardSteps = forward

    guard training else {
      featuresGradient = nil
      conv1WeightGradient = nil
      conv1BiasGradient = nil
      conv2WeightGradient = nil
      conv2BiasGradient = nil
      return
    }

    var backward: [BoundPrimitive] = []
    let featuresGradient = try DNNLMemory(plainFeatures, in: context)
    let conv1WeightGradient = try DNNLMemory(weight1Descriptor, in: context)
    let conv2WeightGradient = try DNNLMemory(weight2Descriptor, in: context)
    let conv1BiasGradient = try DNNLMemory(biasDescriptor, in: context)
    let conv2BiasGradient = try DNNLMemory(biasDescriptor, in: context)
    // pool backward: routes each gradient to the maximum recorded in the workspace
    let poolBackward = try context.maxPoolingBackward(
      sourceGradient: conv2Output.descriptor,
      destinationGradient: pooled.descriptor,
      hint: pool
    )
    let pooledGradient = try Self.adapt(
      featuresGradient,
      to: poolBackward.descriptor(for: .destinationGradient),
      context,
      &backward
    )
    let conv2OutputGradient = try DNNLMemory(
      poolBackward.descriptor(for: .sourceGradient),
      in: context
    )
    var poolBackwardArguments: [(ArgumentRole, DNNLMemory)] = [
      (.destinationGradient, pooledGradient), (.sourceGradient, conv2OutputGradient),
    ]
    if let workspace { poolBackwardArguments.append((.workspace, workspace)) }
    backward.append(poolBackward.bind(poolBackwardArguments))
    // ReLU2 backward from conv2's (post-ReLU) output
    let conv2PreActivationGradient = try Self.reluBackward(
      output: conv2Output,
      outputGradient: conv2OutputGradient,
      context,
      &backward
    )
    // conv2 weight/bias gradients
    let conv2Weights2 = try context.convolutionBackwardWeights(
      source: MemoryDescriptor(dimensions: [n, c, s1, s1], layout: .any),
      weightsGradient: MemoryDescriptor(dimensions: [c, c, k, k], layout: .any),
      biasGradient: biasDescriptor,
      destinationGradient: MemoryDescriptor(dimensions: [n, c, s2, s2], layout: .any),
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
      sourceGradient: MemoryDescriptor(dimensions: [n, c, s1, s1], layout: .any),
      weights: MemoryDescriptor(dimensions: [c, c, k, k], layout: .any),
      destinationGradient: MemoryDescriptor(dimensions: [n, c, s2, s2], layout: .any),
      hint: conv2
    )
    let dataWeights = try Self.adapt(
      conv2Weight,
      to: conv2Data.descriptor(for: .weights),
      context,
      &backward
    )
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
      conv2Data.bind([
        (.destinationGradient, dataOutputGradient), (.weights, dataWeights),
        (.sourceGradient, conv1OutputGradient),
      ])
    )
    // ReLU1 backward, then conv1 weight/bias gradients (the images need no gradient)
    let conv1PreActivationGradient = try Self.reluBackward(
      output: conv1Output,
      outputGradient: conv1OutputGradient,
      context,
      &backward
    )
    let conv1Weights2 = try context.convolutionBackwardWeights(
      source: MemoryDescriptor(dimensions: [n, cin, s, s], layout: .any),
      weightsGradient: MemoryDescriptor(dimensions: [c, cin, k, k], layout: .any),
      biasGradient: biasDescriptor,
      destinationGradient: MemoryDescriptor(dimensions: [n, c, s1, s1], layout: .any),
      hint: conv1
    )
    try Self.appendWeightsBackward(
      conv1Weights2,
      source: conv1Source,
      destinationGradient: conv1PreActivationGradient,
      weightGradient: conv1WeightGradient,
      biasGradient: conv1BiasGradient,
      context,
      &backward
    )

    self.featuresGradient = featuresGradient
    self.conv1WeightGradient = conv1WeightGradient
    self.conv1BiasGradient = conv1BiasGradient
    self.conv2WeightGradient = conv2WeightGradient
    self.conv2BiasGradient = conv2BiasGradient
    backwardSteps = backward
  }

  // MARK: - Passes

  /// Computes ``features`` from ``input`` and the four parameter memories.
  func forward() throws {
    for step in forwardSteps { try step.execute(in: context) }
    try context.wait()
  }

  /// Computes the four parameter gradients from ``featuresGradient`` (overwriting them).
  /// - Precondition: a training stack, after ``forward()`` on the same input.
  func backward() throws {
    precondition(isTraining, "backward() needs a training convolution stack")
    for step in backwardSteps { try step.execute(in: context) }
    try context.wait()
  }

  // MARK: - Building blocks

  /// `memory` itself when it already has `descriptor`, else a new memory of that layout filled
  /// by a reorder appended to `steps`.
  private static func adapt(
    _ memory: DNNLMemory,
    to descriptor: MemoryDescriptor,
    _ context: DNNLContext,
    _ steps: inout [BoundPrimitive]
  ) throws -> DNNLMemory {
    if memory.descriptor == descriptor { return memory }
    let converted = try DNNLMemory(descriptor, in: context)
    let reorder = try context.reorder(from: memory.descriptor, to: descriptor)
    steps.append(reorder.bind([(.reorderInput, memory), (.reorderOutput, converted)]))
    return converted
  }

  /// Appends a ReLU backward (from the ReLU's output) and returns the pre-activation gradient.
  private static func reluBackward(
    output: DNNLMemory,
    outputGradient: DNNLMemory,
    _ context: DNNLContext,
    _ steps: inout [BoundPrimitive]
  ) throws -> DNNLMemory {
    let relu = try context.reluBackwardFromOutput(data: output.descriptor)
    let gradient = try adapt(
      outputGradient,
      to: relu.descriptor(for: .destinationGradient),
      context,
      &steps
    )
    let inputGradient = try DNNLMemory(relu.descriptor(for: .sourceGradient), in: context)
    steps.append(
      relu.bind([
        (.destination, output), (.destinationGradient, gradient),
        (.sourceGradient, inputGradient),
      ])
    )
    return inputGradient
  }

  /// Appends a convolution weights-gradient primitive writing plain `weightGradient`.
  private static func appendWeightsBackward(
    _ primitive: DNNLPrimitive,
    source: DNNLMemory,
    destinationGradient: DNNLMemory,
    weightGradient: DNNLMemory,
    biasGradient: DNNLMemory,
    _ context: DNNLContext,
    _ steps: inout [BoundPrimitive]
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
      primitive.bind([
        (.source, boundSource), (.destinationGradient, boundGradient),
        (.weightsGradient, blockedWeights), (.biasGradient, biasGradient),
      ])
    )
    if blockedWeights !== weightGradient {
      let reorder = try context.reorder(from: chosen, to: weightGradient.descriptor)
      steps.append(
        reorder.bind([(.reorderInput, blockedWeights), (.reorderOutput, weightGradient)])
      )
    }
  }
}
