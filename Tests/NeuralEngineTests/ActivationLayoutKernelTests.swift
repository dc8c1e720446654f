import TestSupport
import Testing

@testable import NeuralEngine

/// The hand-written kernels on every activation layout they accept, built by hand rather than
/// chosen by oneDNN (an AVX2 machine's oneDNN picks `nChw8c`, an AVX-512 machine's `nhwc` or
/// `nChw16c`, and the gathered-lane path serves everything else), in both vector widths
/// (SIMD8, and SIMD16 where AVX-512 is present). Each layout and width must give the plain
/// layout's results exactly (the kernels sum in the same order whatever the layout and width)
/// and match a nested-loop reference.
@Suite struct ActivationLayoutKernelTests {
  /// How a test lays out `[N, C, H, W]`.
  enum Scheme: CustomTestStringConvertible, CaseIterable {
    case nchw, nhwc, blocked4, blocked8, blocked16

    var testDescription: String {
      switch self {
      case .nchw: "nchw"
      case .nhwc: "nhwc"
      case .blocked4: "nChw4c (gathered lanes)"
      case .blocked8: "nChw8c (AVX2)"
      case .blocked16: "nChw16c (AVX-512)"
      }
    }

    /// The layout and the buffer size it needs (blocked layouts pad the last channel block).
    func layout(_ n: Int, _ c: Int, _ h: Int, _ w: Int) -> (ActivationLayout, count: Int) {
      switch self {
      case .nchw:
        return (
          ActivationLayout(
            dimensions: [n, c, h, w],
            channelBlock: 1,
            strides: [c * h * w, h * w, w, 1],
            offset: 0
          ), n * c * h * w
        )
      case .nhwc:
        return (
          ActivationLayout(
            dimensions: [n, c, h, w],
            channelBlock: 1,
            strides: [h * w * c, 1, w * c, c],
            offset: 0
          ), n * c * h * w
        )
      case .blocked4, .blocked8, .blocked16:
        let block = self == .blocked4 ? 4 : self == .blocked8 ? 8 : 16
        let blocks = (c + block - 1) / block
        return (
          ActivationLayout(
            dimensions: [n, c, h, w],
            channelBlock: block,
            strides: [blocks * h * w * block, h * w * block, w * block, block],
            offset: 0
          ), n * blocks * block * h * w
        )
      }
    }
  }

  /// `(batch, channels, side)`: a partial channel group (12) and the paper's 32 channels; an
  /// odd side, so the pool drops a row and a column.
  static let shapes = [(3, 12, 9), (2, 32, 8)]

  /// The kernels' vector widths, each instantiated from the one generic definition.
  enum Width: Int, CustomTestStringConvertible, CaseIterable {
    case simd8 = 8, simd16 = 16

    var testDescription: String { "SIMD\(rawValue)" }
  }

  static let cases = shapes.flatMap { shape in
    Scheme.allCases.flatMap { scheme in Width.allCases.map { (shape, scheme, $0) } }
  }

  /// The width the kernels pick for each layout: 16 lanes only where the machine has AVX-512
  /// and the layout keeps 16 channels adjacent (`nhwc`, `nChw16c`), 8 otherwise.
  @Test func vectorWidthFollowsMachineAndLayout() {
    let wide = KernelVectorWidth.machine == 16
    #expect(KernelVectorWidth.machine == (OneDNNLibrary.hasAVX512 ? 16 : 8))
    let expected: [Scheme: Int] = [
      .nchw: 8, .nhwc: wide ? 16 : 8, .blocked4: 8, .blocked8: 8, .blocked16: wide ? 16 : 8,
    ]
    for scheme in Scheme.allCases {
      #expect(scheme.layout(2, 32, 8, 8).0.kernelLanes == expected[scheme], "\(scheme)")
      // A channel count 16 does not divide keeps 8 lanes.
      #expect(scheme.layout(2, 24, 8, 8).0.kernelLanes == 8, "\(scheme)")
    }
    #expect(Scheme.nhwc.layout(1, 32, 4, 4).0.hasContiguousLanes(16))
    #expect(!Scheme.blocked8.layout(1, 32, 4, 4).0.hasContiguousLanes(16))
    #expect(!Scheme.nchw.layout(1, 32, 4, 4).0.hasContiguousLanes(8))
  }

  /// Writes plain `[N, C, H, W]` values into a `layout` buffer; padding keeps `filler`.
  static func scatter(
    _ plain: [Float],
    _ layout: ActivationLayout,
    count: Int,
    filler: Float = 0
  ) -> [Float] {
    var buffer = [Float](repeating: filler, count: count)
    forEachIndex(layout) { n, c, h, w, plainIndex in
      buffer[layout.index(n, c, h, w)] = plain[plainIndex]
    }
    return buffer
  }

  /// Reads a `layout` buffer back into plain `[N, C, H, W]` order.
  static func gather(_ buffer: [Float], _ layout: ActivationLayout) -> [Float] {
    var plain = [Float](
      repeating: 0,
      count: layout.batch * layout.channels * layout.height * layout.width
    )
    forEachIndex(layout) { n, c, h, w, plainIndex in
      plain[plainIndex] = buffer[layout.index(n, c, h, w)]
    }
    return plain
  }

  static func forEachIndex(
    _ layout: ActivationLayout,
    _ body: (Int, Int, Int, Int, Int) -> Void
  ) {
    let (cs, hs, ws) = (layout.channels, layout.height, layout.width)
    for n in 0..<layout.batch {
      for c in 0..<cs {
        for h in 0..<hs {
          for w in 0..<ws { body(n, c, h, w, ((n * cs + c) * hs + h) * ws + w) }
        }
      }
    }
  }

  /// ReLU outputs with many exact zeros and repeated values, so windows have ties.
  static func activations(_ count: Int, seed: UInt64) -> [Float] {
    randomFloats(count, seed: seed).map { max(($0 * 4).rounded() / 4, 0) }
  }

  @Test(arguments: cases)
  func maxPoolingForwardOnEveryLayout(shape: (Int, Int, Int), scheme: Scheme, width: Width) {
    let (n, c, side) = shape
    let (layout, count) = scheme.layout(n, c, side, side)
    let plain = Self.activations(n * c * side * side, seed: 21)
    let source = Self.scatter(plain, layout, count: count, filler: .nan)
    let p = side / 2
    var pooled = [Float](repeating: -1, count: n * c * p * p)
    source.withUnsafeBufferPointer { source in
      pooled.withUnsafeMutableBufferPointer {
        let (source, pooled) = (source.baseAddress!, $0.baseAddress!)
        switch width {
        case .simd8:
          MaxPooling.forward(
            source: source,
            layout: layout,
            pooled: pooled,
            lanes: SIMD8<Float>.self
          )
        case .simd16:
          MaxPooling.forward(
            source: source,
            layout: layout,
            pooled: pooled,
            lanes: SIMD16<Float>.self
          )
        }
      }
    }
    var expected = [Float](repeating: 0, count: n * c * p * p)
    for image in 0..<n {
      for channel in 0..<c {
        for i in 0..<p {
          for j in 0..<p {
            let at = { (h: Int, w: Int) in plain[((image * c + channel) * side + h) * side + w] }
            expected[((image * c + channel) * p + i) * p + j] = max(
              max(at(2 * i, 2 * j), at(2 * i, 2 * j + 1)),
              max(at(2 * i + 1, 2 * j), at(2 * i + 1, 2 * j + 1))
            )
          }
        }
      }
    }
    #expect(firstMismatch(pooled, expected, absolute: 0, relative: 0) == nil)
  }

  @Test(arguments: cases)
  func maxPoolingBackwardOnEveryLayout(shape: (Int, Int, Int), scheme: Scheme, width: Width) {
    let (n, c, side) = shape
    let (layout, count) = scheme.layout(n, c, side, side)
    let plain = Self.activations(n * c * side * side, seed: 22)
    let source = Self.scatter(plain, layout, count: count)
    let p = side / 2
    let pooledGradient = randomFloats(n * c * p * p, seed: 23)
    // Real positions must all be overwritten; padding lanes must keep their sentinel.
    let sentinel: Float = 1234
    var gradient = [Float](repeating: sentinel, count: count)
    source.withUnsafeBufferPointer { source in
      pooledGradient.withUnsafeBufferPointer { pooledGradient in
        gradient.withUnsafeMutableBufferPointer { gradient in
          func run<V: KernelVector>(_ lanes: V.Type) {
            MaxPooling.backwardThroughReLU(
              source: source.baseAddress!,
              layout: layout,
              pooledGradient: pooledGradient.baseAddress!,
              sourceGradient: gradient.baseAddress!,
              lanes: lanes
            )
          }
          switch width {
          case .simd8: run(SIMD8<Float>.self)
          case .simd16: run(SIMD16<Float>.self)
          }
        }
      }
    }
    // Reference: the first maximum in (row, column) order takes the window's gradient when it
    // is positive (ReLU passed it); everything else, dropped rows and columns included, is 0.
    var expected = [Float](repeating: 0, count: plain.count)
    for image in 0..<n {
      for channel in 0..<c {
        let plane = (image * c + channel) * side * side
        for i in 0..<p {
          for j in 0..<p {
            let window = [(0, 0), (0, 1), (1, 0), (1, 1)].map {
              plane + (2 * i + $0.0) * side + 2 * j + $0.1
            }
            let maximum = window.map { plain[$0] }.max()!
            let first = window.first { plain[$0] == maximum }!
            if maximum > 0 {
              expected[first] = pooledGradient[((image * c + channel) * p + i) * p + j]
            }
          }
        }
      }
    }
    #expect(firstMismatch(Self.gather(gradient, layout), expected, absolute: 0, relative: 0) == nil)
    let real = Set(
      (0..<plain.count).map { plainIndex in
        let w = plainIndex % side
        let h = plainIndex / side % side
        let channel = plainIndex / (side * side) % c
        let image = plainIndex / (side * side * c)
        return layout.index(image, channel, h, w)
      }
    )
    #expect(
      gradient.indices.allSatisfy { real.contains($0) || gradient[$0] == sentinel },
      "a padding lane was written"
    )
  }

  @Test(arguments: cases)
  func imageConvolutionGradientOnEveryLayout(
    shape: (Int, Int, Int),
    scheme: Scheme,
    width: Width
  ) {
    let (n, c, side) = shape
    let (cin, k) = (1, 4)
    let s = side + k - 1
    let images = randomFloats(n * cin * s * s, seed: 24)
    let plainActivations = Self.activations(n * c * side * side, seed: 25)
    let plainGradient = randomFloats(n * c * side * side, seed: 26)

    func run(_ scheme: Scheme, _ width: Width) -> (weights: [Float], bias: [Float]) {
      let (layout, count) = scheme.layout(n, c, side, side)
      let activations = Self.scatter(plainActivations, layout, count: count)
      let outputGradient = Self.scatter(plainGradient, layout, count: count)
      var weights = [Float](repeating: .nan, count: c * cin * k * k)
      var bias = [Float](repeating: .nan, count: c)
      let scratch = ImageConvolutionGradient.Scratch(
        channels: c,
        inputChannels: cin,
        kernelSize: k,
        outputSize: side
      )
      // Twice: the second call must not see the first one's partial sums.
      for _ in 0..<2 {
        images.withUnsafeBufferPointer { images in
          activations.withUnsafeBufferPointer { activations in
            outputGradient.withUnsafeBufferPointer { outputGradient in
              weights.withUnsafeMutableBufferPointer { weights in
                bias.withUnsafeMutableBufferPointer { bias in
                  func run<V: KernelVector>(_ lanes: V.Type) {
                    ImageConvolutionGradient.backward(
                      images: images.baseAddress!,
                      inputChannels: cin,
                      imageSize: s,
                      kernelSize: k,
                      activations: activations.baseAddress!,
                      activationLayout: layout,
                      activationGradient: outputGradient.baseAddress!,
                      gradientLayout: layout,
                      weightGradient: weights.baseAddress!,
                      biasGradient: bias.baseAddress!,
                      scratch: scratch,
                      lanes: lanes
                    )
                  }
                  switch width {
                  case .simd8: run(SIMD8<Float>.self)
                  case .simd16: run(SIMD16<Float>.self)
                  }
                }
              }
            }
          }
        }
      }
      return (weights, bias)
    }

    let result = run(scheme, width)
    let plainResult = run(.nchw, .simd8)
    #expect(firstMismatch(result.weights, plainResult.weights, absolute: 0, relative: 0) == nil)
    #expect(firstMismatch(result.bias, plainResult.bias, absolute: 0, relative: 0) == nil)

    var weights = [Double](repeating: 0, count: c * cin * k * k)
    var bias = [Double](repeating: 0, count: c)
    for image in 0..<n {
      for channel in 0..<c {
        for h in 0..<side {
          for w in 0..<side {
            let index = ((image * c + channel) * side + h) * side + w
            guard plainActivations[index] > 0 else { continue }
            let g = Double(plainGradient[index])
            bias[channel] += g
            for ci in 0..<cin {
              for kh in 0..<k {
                for kw in 0..<k {
                  weights[((channel * cin + ci) * k + kh) * k + kw] +=
                    g * Double(images[((image * cin + ci) * s + h + kh) * s + w + kw])
                }
              }
            }
          }
        }
      }
    }
    #expect(
      firstMismatch(result.weights.map(Double.init), weights, absolute: 1e-4, relative: 1e-5) == nil
    )
    #expect(
      firstMismatch(result.bias.map(Double.init), bias, absolute: 1e-4, relative: 1e-5) == nil
    )
  }
}
