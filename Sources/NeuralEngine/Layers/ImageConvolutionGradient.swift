/// The weight and bias gradients of the first convolution (valid, stride 1, reading the
/// images), fused with the backward pass of the ReLU that follows it.
///
/// Shapes: images `[N, Cin, S, S]` plain; activations `relu(z)` and their gradient
/// `[N, C, S−k+1, S−k+1]` in any ``ActivationLayout``; weight gradient `[C, Cin, k, k]` plain
/// (PyTorch's order); bias gradient `[C]`.
///
///     g = ∂L/∂relu(z) · (relu(z) > 0)
///     ∂L/∂w[c, ci, kh, kw] = Σ_{n,h,w} g[n, c, h, w] · x[n, ci, h + kh, w + kw]
///     ∂L/∂b[c] = Σ_{n,h,w} g[n, c, h, w]
///
/// Why by hand: oneDNN pads the single input channel to a whole channel block for its
/// weight-gradient kernel (8x the work for MNIST) and needs a separate ReLU-backward pass over
/// the largest activation; this kernel reads the plain images and the activations once.
enum ImageConvolutionGradient {
  /// Images per parallel part. Each part keeps its own partial sums, added in part order, so
  /// the result does not depend on the number of cores.
  private static let parts = 8

  /// The kernel's working memory for one stack shape, allocated once by its owner so that a
  /// training step allocates nothing: per-part partial sums and per-part ReLU-masked
  /// gradients (`8 · (C·Cin·k² + C)` floats and `8 · side²` vectors of up to 16 lanes).
  struct Scratch {
    fileprivate let partials: ScratchBuffer<Float>
    fileprivate let masked: ScratchBuffer<Float>
    fileprivate let channels: Int
    fileprivate let taps: Int
    fileprivate let side: Int

    /// Scratch for `channels` output channels of `inputChannels · kernelSize²` taps each, on
    /// activations of `outputSize × outputSize`.
    init(channels: Int, inputChannels: Int, kernelSize: Int, outputSize: Int) {
      self.channels = channels
      taps = inputChannels * kernelSize * kernelSize
      side = outputSize
      partials = ScratchBuffer(
        count: ImageConvolutionGradient.parts * (channels * taps + channels),
        zero: 0
      )
      masked = ScratchBuffer(
        count: ImageConvolutionGradient.parts * side * side * SIMD16<Float>.scalarCount,
        zero: 0
      )
    }
  }

  /// Overwrites `weightGradient` and `biasGradient`; see the type's formulas.
  ///
  /// Every lane (channel) sums its own products in the same order whatever the vector width
  /// and layout, so the result is bit for bit the same on every machine and layout.
  static func backward(
    images: UnsafePointer<Float>,
    inputChannels: Int,
    imageSize: Int,
    kernelSize: Int,
    activations: UnsafePointer<Float>,
    activationLayout: ActivationLayout,
    activationGradient: UnsafePointer<Float>,
    gradientLayout: ActivationLayout,
    weightGradient: UnsafeMutablePointer<Float>,
    biasGradient: UnsafeMutablePointer<Float>,
    scratch: Scratch
  ) {
    func run<V: KernelVector>(_ lanes: V.Type) {
      backward(
        images: images,
        inputChannels: inputChannels,
        imageSize: imageSize,
        kernelSize: kernelSize,
        activations: activations,
        activationLayout: activationLayout,
        activationGradient: activationGradient,
        gradientLayout: gradientLayout,
        weightGradient: weightGradient,
        biasGradient: biasGradient,
        scratch: scratch,
        lanes: lanes
      )
    }
    if min(activationLayout.kernelLanes, gradientLayout.kernelLanes) == 16 {
      run(SIMD16<Float>.self)
    } else {
      run(SIMD8<Float>.self)
    }
  }

  /// ``backward(images:inputChannels:imageSize:kernelSize:activations:activationLayout:activationGradient:gradientLayout:weightGradient:biasGradient:scratch:)``
  /// in vectors of `V`.
  static func backward<V: KernelVector>(
    images: UnsafePointer<Float>,
    inputChannels: Int,
    imageSize: Int,
    kernelSize: Int,
    activations: UnsafePointer<Float>,
    activationLayout: ActivationLayout,
    activationGradient: UnsafePointer<Float>,
    gradientLayout: ActivationLayout,
    weightGradient: UnsafeMutablePointer<Float>,
    biasGradient: UnsafeMutablePointer<Float>,
    scratch: Scratch,
    lanes _: V.Type
  ) {
    let (cin, s, k) = (inputChannels, imageSize, kernelSize)
    let (count, c, side) = (activationLayout.batch, activationLayout.channels, s - k + 1)
    precondition(activationLayout.height == side && activationLayout.width == side)
    precondition(gradientLayout.batch == count && gradientLayout.channels == c)
    let taps = cin * k * k
    precondition(
      scratch.channels == c && scratch.taps == taps && scratch.side == side,
      "scratch made for another convolution shape"
    )
    let partSize = c * taps + c
    let parts = max(1, min(Self.parts, count))
    let partials = scratch.partials.pointer
    partials.update(repeating: 0, count: parts * partSize)
    // Every vector of a part's masked gradient is written before it is read.
    let masked = UnsafeMutableRawPointer(scratch.masked.pointer).bindMemory(
      to: V.self,
      capacity: parts * side * side
    )
    defer {
      UnsafeMutableRawPointer(masked).bindMemory(
        to: Float.self,
        capacity: scratch.masked.count
      )
    }

    Parallel.forEachRange(of: count, parts: parts) { part, range in
      let weights = partials + part * partSize
      let bias = weights + c * taps
      let gradient = masked + part * side * side
      for n in range {
        for firstChannel in stride(from: 0, to: c, by: V.scalarCount) {
          let outputs = activationLayout.group(
            activations,
            image: n,
            firstChannel: firstChannel,
            as: V.self
          )
          let outputGradients = gradientLayout.group(
            activationGradient,
            image: n,
            firstChannel: firstChannel,
            as: V.self
          )
          let lanes = outputs.lanes
          // The ReLU-masked output gradient of the group's channels, [side, side] vectors.
          var biasSum = V()
          for h in 0..<side {
            for w in 0..<side {
              let g = outputGradients.load(h, w).passedByReLU(output: outputs.load(h, w))
              gradient[h * side + w] = g
              biasSum += g
            }
          }
          for lane in 0..<lanes { bias[firstChannel + lane] += biasSum[lane] }
          for ci in 0..<cin {
            let image = images + (n * cin + ci) * s * s
            for kh in 0..<k {
              // Four taps of one kernel row at a time keep four vector accumulators in
              // registers; a remainder tap (k not a multiple of 4) takes the single loop.
              var kw = 0
              while kw + 4 <= k {
                var (a0, a1, a2, a3) = (V(), V(), V(), V())
                for h in 0..<side {
                  let x = image + (h + kh) * s + kw
                  let g = gradient + h * side
                  for w in 0..<side {
                    let v = g[w]
                    a0 += v * x[w]
                    a1 += v * x[w + 1]
                    a2 += v * x[w + 2]
                    a3 += v * x[w + 3]
                  }
                }
                let tap = (ci * k + kh) * k + kw
                for lane in 0..<lanes {
                  let row = weights + (firstChannel + lane) * taps + tap
                  row[0] += a0[lane]
                  row[1] += a1[lane]
                  row[2] += a2[lane]
                  row[3] += a3[lane]
                }
                kw += 4
              }
              while kw < k {
                var a = V()
                for h in 0..<side {
                  let x = image + (h + kh) * s + kw
                  let g = gradient + h * side
                  for w in 0..<side { a += g[w] * x[w] }
                }
                let tap = (ci * k + kh) * k + kw
                for lane in 0..<lanes { weights[(firstChannel + lane) * taps + tap] += a[lane] }
                kw += 1
              }
            }
          }
        }
      }
    }

    for index in 0..<partSize {
      var sum: Float = 0
      for part in 0..<parts { sum += partials[part * partSize + index] }
      if index < c * taps {
        weightGradient[index] = sum
      } else {
        biasGradient[index - c * taps] = sum
      }
    }
  }
}
