import TestSupport
import Testing

@testable import NeuralEngine

/// The convolution stack (oneDNN convolutions in blocked layouts, hand-written pooling and
/// first-layer gradient kernels) against finite differences and a direct reference.
///
/// The shapes cover the kernels' paths: 3 channels (lanes gathered one by one), 12 channels
/// (a full group of eight plus a partial one), 32 channels as in the paper (vector loads);
/// kernel sizes 3, 5 and 4 (the single-tap loop, four taps plus one, four taps); odd and even
/// pooling inputs.
@Suite struct ConvolutionStackTests {
  static let shapes = [
    ConvolutionStack.Shape(batch: 2, inputChannels: 2, imageSize: 9, channels: 3, kernelSize: 3),
    ConvolutionStack.Shape(batch: 3, inputChannels: 1, imageSize: 14, channels: 12, kernelSize: 5),
    ConvolutionStack.Shape(batch: 2, inputChannels: 1, imageSize: 28, channels: 32, kernelSize: 4),
  ]

  /// One valid, stride-1 convolution + bias + ReLU of `[N, cin, size, size]` in Double, with the
  /// shape's channel count and kernel size (the reference of both passes).
  static func convolve(
    _ x: [Double],
    _ cin: Int,
    _ size: Int,
    _ w: [Float],
    _ b: [Float],
    _ shape: ConvolutionStack.Shape
  ) -> [Double] {
    let (c, k) = (shape.channels, shape.kernelSize)
    let out = size - k + 1
    var y = [Double](repeating: 0, count: shape.batch * c * out * out)
    for n in 0..<shape.batch {
      for o in 0..<c {
        for i in 0..<out {
          for j in 0..<out {
            var sum = Double(b[o])
            for ci in 0..<cin {
              for di in 0..<k {
                for dj in 0..<k {
                  sum +=
                    Double(w[((o * cin + ci) * k + di) * k + dj])
                    * x[((n * cin + ci) * size + i + di) * size + j + dj]
                }
              }
            }
            y[((n * c + o) * out + i) * out + j] = max(sum, 0)
          }
        }
      }
    }
    return y
  }

  /// Plain nested-loop reference of the stack in Double: conv(valid) + bias + ReLU twice,
  /// then 2x2 max-pool, flattened in (channel, row, column) order.
  static func reference(
    input: [Float],
    w1: [Float],
    b1: [Float],
    w2: [Float],
    b2: [Float],
    shape: ConvolutionStack.Shape
  ) -> [Double] {
    let first = convolve(
      input.map(Double.init),
      shape.inputChannels,
      shape.imageSize,
      w1,
      b1,
      shape
    )
    let second = convolve(first, shape.channels, shape.firstOutputSize, w2, b2, shape)
    let (c, s2, p) = (shape.channels, shape.secondOutputSize, shape.pooledSize)
    var pooled = [Double](repeating: 0, count: shape.batch * c * p * p)
    for n in 0..<shape.batch {
      for o in 0..<c {
        for i in 0..<p {
          for j in 0..<p {
            var best = -Double.infinity
            for di in 0..<2 {
              for dj in 0..<2 {
                best = max(best, second[((n * c + o) * s2 + 2 * i + di) * s2 + 2 * j + dj])
              }
            }
            pooled[((n * c + o) * p + i) * p + j] = best
          }
        }
      }
    }
    return pooled
  }

  /// The four parameter gradients of `Σ features · r` in Double, by backpropagation through
  /// the same nested loops (ties in a pooling window go to the first maximum, as in the engine).
  static func referenceGradients(_ fixture: Fixture) -> [String: [Double]] {
    let shape = fixture.shape
    let (n, cin, s, c, k) = (
      shape.batch, shape.inputChannels, shape.imageSize, shape.channels, shape.kernelSize
    )
    let (s1, s2, p) = (shape.firstOutputSize, shape.secondOutputSize, shape.pooledSize)
    let x = fixture.input.map(Double.init)
    let y1 = convolve(x, cin, s, fixture.w1, fixture.b1, shape)
    let y2 = convolve(y1, c, s1, fixture.w2, fixture.b2, shape)
    // pool backward, then ReLU2's
    var g2 = [Double](repeating: 0, count: y2.count)
    for image in 0..<n {
      for o in 0..<c {
        for i in 0..<p {
          for j in 0..<p {
            var best = (value: -Double.infinity, index: 0)
            for di in 0..<2 {
              for dj in 0..<2 {
                let index = ((image * c + o) * s2 + 2 * i + di) * s2 + 2 * j + dj
                if y2[index] > best.value { best = (y2[index], index) }
              }
            }
            if best.value > 0 {
              g2[best.index] = Double(fixture.r[((image * c + o) * p + i) * p + j])
            }
          }
        }
      }
    }
    // conv layer backward: weight and bias gradients, and (optionally) the input gradient
    func convBackward(
      _ input: [Double],
      _ cin: Int,
      _ size: Int,
      _ w: [Float],
      _ g: [Double]
    ) -> (weight: [Double], bias: [Double], input: [Double]) {
      let out = size - k + 1
      var (dw, db) = (
        [Double](repeating: 0, count: c * cin * k * k), [Double](repeating: 0, count: c)
      )
      var dx = [Double](repeating: 0, count: input.count)
      for image in 0..<n {
        for o in 0..<c {
          for i in 0..<out {
            for j in 0..<out {
              let gradient = g[((image * c + o) * out + i) * out + j]
              guard gradient != 0 else { continue }
              db[o] += gradient
              for ci in 0..<cin {
                for di in 0..<k {
                  for dj in 0..<k {
                    let inputIndex = ((image * cin + ci) * size + i + di) * size + j + dj
                    let weightIndex = ((o * cin + ci) * k + di) * k + dj
                    dw[weightIndex] += gradient * input[inputIndex]
                    dx[inputIndex] += gradient * Double(w[weightIndex])
                  }
                }
              }
            }
          }
        }
      }
      return (dw, db, dx)
    }
    let second = convBackward(y1, c, s1, fixture.w2, g2)
    let g1 = zip(second.input, y1).map { $1 > 0 ? $0 : 0 }
    let first = convBackward(x, cin, s, fixture.w1, g1)
    return [
      "conv1.weight": first.weight, "conv1.bias": first.bias,
      "conv2.weight": second.weight, "conv2.bias": second.bias,
    ]
  }

  struct Fixture {
    let shape: ConvolutionStack.Shape
    var input: [Float]
    var w1: [Float]
    var b1: [Float]
    var w2: [Float]
    var b2: [Float]
    let r: [Float]

    init(_ shape: ConvolutionStack.Shape) {
      let (c, cin, k) = (shape.channels, shape.inputChannels, shape.kernelSize)
      self.shape = shape
      input = randomFloats(shape.batch * cin * shape.imageSize * shape.imageSize, seed: 20)
      // Scales keep the second layer's ReLUs mixed (some on, some off) at every size.
      w1 = randomFloats(c * cin * k * k, seed: 21, scale: 1.5 / Float(k))
      b1 = randomFloats(c, seed: 22, scale: 0.1)
      w2 = randomFloats(
        c * c * k * k,
        seed: 23,
        scale: 1.5 / Float(k * Int(Double(c).squareRoot()))
      )
      b2 = randomFloats(c, seed: 24, scale: 0.1)
      r = randomFloats(shape.batch * shape.featureCount, seed: 25)
    }

    func load(into stack: ConvolutionStack) throws {
      for (values, memory) in [
        (input, stack.input), (w1, stack.conv1Weight), (b1, stack.conv1Bias),
        (w2, stack.conv2Weight), (b2, stack.conv2Bias),
      ] {
        memory.floats.update(from: values, count: values.count)
      }
      try stack.prepareWeights()
    }

    func loss(_ stack: ConvolutionStack) throws -> Double {
      try load(into: stack)
      try stack.forward()
      return (0..<r.count).reduce(0) { $0 + Double(stack.features.floats[$1]) * Double(r[$1]) }
    }
  }

  /// oneDNN's choice of activation layout, and `nhwc` forced (the layout oneDNN 2.6 picks on
  /// AVX-512, so that AVX2 machines run the kernels' NHWC path too).
  static let layoutCases = shapes.flatMap { shape in
    ActivationLayoutPreference.allCases.map { (shape, $0) }
  }

  @Test(arguments: layoutCases)
  func forwardMatchesReference(
    shape: ConvolutionStack.Shape,
    activations: ActivationLayoutPreference
  ) throws {
    let context = try DNNLContext()
    for training in [false, true] {
      let stack = try ConvolutionStack(
        shape: shape,
        training: training,
        context: context,
        activations: activations
      )
      if activations == .nhwc {
        let layouts = Dictionary(uniqueKeysWithValues: stack.layouts.map { ($0.role, $0.format) })
        #expect(layouts["conv1.output"] == "acdb" && layouts["conv2.output"] == "acdb")
      }
      let fixture = Fixture(shape)
      try fixture.load(into: stack)
      try stack.forward()
      let expected = Self.reference(
        input: fixture.input,
        w1: fixture.w1,
        b1: fixture.b1,
        w2: fixture.w2,
        b2: fixture.b2,
        shape: shape
      )
      let actual = (0..<expected.count).map { Double(stack.features.floats[$0]) }
      #expect(firstMismatch(actual, expected, absolute: 1e-5, relative: 1e-5) == nil)
      #expect(expected.contains { $0 == 0 } && expected.contains { $0 > 0 }, "ReLUs are mixed")
    }
  }

  /// Runs the stack forward and backward on `fixture` (features gradient `r`) and returns its
  /// four parameter gradients.
  static func engineGradients(
    _ fixture: Fixture,
    _ stack: ConvolutionStack
  ) throws -> [String: [Double]] {
    _ = try fixture.loss(stack)
    guard let featuresGradient = stack.featuresGradient else {
      throw NeuralEngineError.oneDNN(operation: "test", status: "no features gradient")
    }
    featuresGradient.floats.update(from: fixture.r, count: fixture.r.count)
    try stack.backward()
    func read(_ memory: DNNLMemory?, _ count: Int) -> [Double] {
      (0..<count).map { Double(memory?.floats[$0] ?? .nan) }
    }
    return [
      "conv1.weight": read(stack.conv1WeightGradient, fixture.w1.count),
      "conv1.bias": read(stack.conv1BiasGradient, fixture.b1.count),
      "conv2.weight": read(stack.conv2WeightGradient, fixture.w2.count),
      "conv2.bias": read(stack.conv2BiasGradient, fixture.b2.count),
    ]
  }

  @Test(arguments: layoutCases)
  func backwardMatchesDoubleReference(
    shape: ConvolutionStack.Shape,
    activations: ActivationLayoutPreference
  ) throws {
    let context = try DNNLContext()
    let stack = try ConvolutionStack(
      shape: shape,
      training: true,
      context: context,
      activations: activations
    )
    let fixture = Fixture(shape)
    let engine = try Self.engineGradients(fixture, stack)
    let reference = Self.referenceGradients(fixture)
    for (name, expected) in reference.sorted(by: { $0.key < $1.key }) {
      let actual = engine[name] ?? []
      #expect(actual.count == expected.count)
      let mismatch = firstMismatch(actual, expected, absolute: 1e-4, relative: 1e-4)
      #expect(
        mismatch == nil,
        "\(name) at \(shape.testDescription): \(String(describing: mismatch))"
      )
    }
  }

  /// ``ConvolutionStack/forward()`` runs on the weights of the last
  /// ``ConvolutionStack/prepareWeights()``: writing new weights without preparing them changes
  /// nothing, preparing them does.
  @Test func forwardUsesPreparedWeights() throws {
    let shape = Self.shapes[2]
    let context = try DNNLContext()
    let stack = try ConvolutionStack(shape: shape, training: false, context: context)
    let fixture = Fixture(shape)
    try fixture.load(into: stack)
    try stack.forward()
    let before = Array(UnsafeBufferPointer(start: stack.features.floats, count: 64))
    let doubled = fixture.w2.map { 2 * $0 }
    stack.conv2Weight.floats.update(from: doubled, count: doubled.count)
    try stack.forward()
    // (Only where the convolution reorders its weights: with plain `abcd` weights it reads
    // the written memory directly.)
    if stack.layouts.first(where: { $0.role == "conv2.weights" })?.format != "abcd" {
      #expect(Array(UnsafeBufferPointer(start: stack.features.floats, count: 64)) == before)
    }
    try stack.prepareWeights()
    try stack.forward()
    #expect(Array(UnsafeBufferPointer(start: stack.features.floats, count: 64)) != before)
    #expect(stack.weightPreparations == 2)
  }

  /// Independent of the reference's own backward: central differences on the small shape
  /// (the larger ones cross ReLU and pooling kinks at any step Float resolves).
  @Test func backwardMatchesFiniteDifferences() throws {
    let shape = Self.shapes[0]
    let context = try DNNLContext()
    let stack = try ConvolutionStack(shape: shape, training: true, context: context)
    let fixture = Fixture(shape)
    let engine = try Self.engineGradients(fixture, stack)
    let evaluate: (Fixture) -> Double = { (try? $0.loss(stack)) ?? .nan }
    let tensors: [(String, WritableKeyPath<Fixture, [Float]>)] = [
      ("conv1.weight", \.w1), ("conv1.bias", \.b1), ("conv2.weight", \.w2), ("conv2.bias", \.b2),
    ]
    for (name, keyPath) in tensors {
      var probe = fixture[keyPath: keyPath]
      let numeric = numericalGradient(of: &probe, at: Array(probe.indices)) { values in
        var copy = fixture
        copy[keyPath: keyPath] = values
        return evaluate(copy)
      }
      let mismatch = gradientMismatch(analytic: engine[name] ?? [], numeric: numeric)
      #expect(mismatch == nil, "\(name): \(mismatch ?? "")")
    }
  }
}

extension ConvolutionStack.Shape: CustomTestStringConvertible {
  /// The shape in one line, for test names.
  public var testDescription: String {
    "N\(batch) Cin\(inputChannels) S\(imageSize) C\(channels) k\(kernelSize)"
  }
}
