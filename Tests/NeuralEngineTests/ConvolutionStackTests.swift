import TestSupport
import Testing

@testable import NeuralEngine

/// The oneDNN convolution stack (conv → ReLU → conv → ReLU → max-pool, blocked layouts and
/// reorders) against finite differences and a direct reference implementation.
@Suite struct ConvolutionStackTests {
  static let shape = ConvolutionStack.Shape(
    batch: 2,
    inputChannels: 2,
    imageSize: 9,
    channels: 3,
    kernelSize: 3
  )

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
    func conv(_ x: [Double], _ cin: Int, _ size: Int, _ w: [Float], _ b: [Float]) -> [Double] {
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
    let first = conv(
      input.map(Double.init),
      shape.inputChannels,
      shape.imageSize,
      w1,
      b1
    )
    let second = conv(first, shape.channels, shape.firstOutputSize, w2, b2)
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

  struct Fixture {
    var input = randomFloats(
      shape.batch * shape.inputChannels * shape.imageSize * shape.imageSize,
      seed: 20
    )
    var w1 = randomFloats(shape.channels * shape.inputChannels * 9, seed: 21, scale: 0.5)
    var b1 = randomFloats(shape.channels, seed: 22, scale: 0.1)
    var w2 = randomFloats(shape.channels * shape.channels * 9, seed: 23, scale: 0.5)
    var b2 = randomFloats(shape.channels, seed: 24, scale: 0.1)
    let r = randomFloats(shape.batch * shape.featureCount, seed: 25)

    func load(into stack: ConvolutionStack) {
      for (values, memory) in [
        (input, stack.input), (w1, stack.conv1Weight), (b1, stack.conv1Bias),
        (w2, stack.conv2Weight), (b2, stack.conv2Bias),
      ] {
        memory.floats.update(from: values, count: values.count)
      }
    }

    func loss(_ stack: ConvolutionStack) throws -> Double {
      load(into: stack)
      try stack.forward()
      return (0..<r.count).reduce(0) { $0 + Double(stack.features.floats[$1]) * Double(r[$1]) }
    }
  }

  @Test func forwardMatchesReference() throws {
    let context = try DNNLContext()
    for training in [false, true] {
      let stack = try ConvolutionStack(shape: Self.shape, training: training, context: context)
      let fixture = Fixture()
      fixture.load(into: stack)
      try stack.forward()
      let expected = Self.reference(
        input: fixture.input,
        w1: fixture.w1,
        b1: fixture.b1,
        w2: fixture.w2,
        b2: fixture.b2,
        shape: Self.shape
      )
      let actual = (0..<expected.count).map { Double(stack.features.floats[$0]) }
      #expect(firstMismatch(actual, expected, absolute: 1e-5, relative: 1e-5) == nil)
    }
  }

  @Test func backwardMatchesFiniteDifferences() throws {
    let context = try DNNLContext()
    let stack = try ConvolutionStack(shape: Self.shape, training: true, context: context)
    let fixture = Fixture()
    _ = try fixture.loss(stack)
    guard let featuresGradient = stack.featuresGradient else {
      Issue.record("training stack has no features gradient")
      return
    }
    featuresGradient.floats.update(from: fixture.r, count: fixture.r.count)
    try stack.backward()
    func read(_ memory: DNNLMemory?, _ count: Int) -> [Double] {
      (0..<count).map { Double(memory?.floats[$0] ?? .nan) }
    }
    let analytic = (
      w1: read(stack.conv1WeightGradient, fixture.w1.count),
      b1: read(stack.conv1BiasGradient, fixture.b1.count),
      w2: read(stack.conv2WeightGradient, fixture.w2.count),
      b2: read(stack.conv2BiasGradient, fixture.b2.count)
    )
    let evaluate: (Fixture) -> Double = { (try? $0.loss(stack)) ?? .nan }
    var probe = fixture
    let w1 = numericalGradient(of: &probe.w1, at: Array(0..<fixture.w1.count)) { values in
      var copy = fixture
      copy.w1 = values
      return evaluate(copy)
    }
    let b1 = numericalGradient(of: &probe.b1, at: Array(0..<fixture.b1.count)) { values in
      var copy = fixture
      copy.b1 = values
      return evaluate(copy)
    }
    let w2 = numericalGradient(of: &probe.w2, at: Array(0..<fixture.w2.count)) { values in
      var copy = fixture
      copy.w2 = values
      return evaluate(copy)
    }
    let b2 = numericalGradient(of: &probe.b2, at: Array(0..<fixture.b2.count)) { values in
      var copy = fixture
      copy.b2 = values
      return evaluate(copy)
    }
    #expect(gradientMismatch(analytic: analytic.w1, numeric: w1) == nil)
    #expect(gradientMismatch(analytic: analytic.b1, numeric: b1) == nil)
    #expect(gradientMismatch(analytic: analytic.w2, numeric: w2) == nil)
    #expect(gradientMismatch(analytic: analytic.b2, numeric: b2) == nil)
  }
}
