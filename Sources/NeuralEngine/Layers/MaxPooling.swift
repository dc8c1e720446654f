/// 2x2, stride-2 max pooling (floor mode: a trailing odd row or column is dropped) of ReLU
/// outputs, eight channels at a time, straight from oneDNN's blocked convolution output.
///
/// Shapes: source `[N, C, H, W]` in any ``ActivationLayout``; pooled `[N, C, H/2, W/2]` plain,
/// row-major, which is the flattened (channel, row, column) feature order the dense head reads.
///
/// Writing the plain features directly saves oneDNN's pooling primitive, its workspace and the
/// reorder to plain; the backward pass folds in the preceding ReLU's backward as well. Ties go
/// to the first maximum in (row, column) order within a window.
enum MaxPooling {
  /// Images per parallel part (the split is fixed, so results never depend on the core count).
  private static let parts = 8

  /// `pooled[n, c, i, j] = max` of `source[n, c, 2i..2i+1, 2j..2j+1]`.
  static func forward(
    source: UnsafePointer<Float>,
    layout: ActivationLayout,
    pooled: UnsafeMutablePointer<Float>
  ) {
    let (c, ph, pw) = (layout.channels, layout.height / 2, layout.width / 2)
    let plane = ph * pw
    Parallel.forEachRange(of: layout.batch, parts: parts) { _, images in
      // One output row of window maxima, eight channels each, in raw memory (written as
      // vectors, read back lane by lane). Going through this buffer keeps the maxima as vector
      // `maxps`: stored lane by lane straight from the comparison, LLVM turned the select into
      // eight data-dependent branches per window (the kernel took 0.24 s instead of 0.16 s of
      // a 10,000-image evaluation).
      let vectorBytes = MemoryLayout<SIMD8<Float>>.stride
      withUnsafeTemporaryAllocation(
        byteCount: max(pw, 1) * vectorBytes,
        alignment: MemoryLayout<SIMD8<Float>>.alignment
      ) { buffer in
        let row = UnsafeMutableRawPointer(buffer.baseAddress!)
        func keep(_ maximum: SIMD8<Float>, at j: Int) {
          row.storeBytes(of: maximum, toByteOffset: j * vectorBytes, as: SIMD8<Float>.self)
        }
        for n in images {
          for firstChannel in stride(from: 0, to: c, by: 8) {
            let group = layout.group(source, image: n, firstChannel: firstChannel)
            let target = pooled + (n * c + firstChannel) * plane
            for i in 0..<ph {
              for j in 0..<pw { keep(windowMaximum(i, j, group.load), at: j) }
              for lane in 0..<group.lanes {
                let output = target + lane * plane + i * pw
                let laneOffset = lane * MemoryLayout<Float>.stride
                for j in 0..<pw {
                  output[j] = row.load(fromByteOffset: j * vectorBytes + laneOffset, as: Float.self)
                }
              }
            }
          }
        }
      }
    }
  }

  /// The maximum of window `(i, j)`, reading positions through `load(h, w)`.
  @inline(__always)
  private static func windowMaximum(
    _ i: Int,
    _ j: Int,
    _ load: (Int, Int) -> SIMD8<Float>
  ) -> SIMD8<Float> {
    let (h, w) = (2 * i, 2 * j)
    return larger(larger(load(h, w), load(h, w + 1)), larger(load(h + 1, w), load(h + 1, w + 1)))
  }

  /// The gradient with respect to the *pre-activation* `z` of `pooled = maxpool(relu(z))`,
  /// given `source = relu(z)` and `pooledGradient` (plain `[N, C, H/2, W/2]`).
  ///
  /// Each window sends its gradient to its first maximum when that maximum is positive (the
  /// ReLU passed it), and 0 everywhere else. Overwrites every element of `sourceGradient`
  /// (same layout as `source`), dropped trailing rows and columns included.
  static func backwardThroughReLU(
    source: UnsafePointer<Float>,
    layout: ActivationLayout,
    pooledGradient: UnsafePointer<Float>,
    sourceGradient: UnsafeMutablePointer<Float>
  ) {
    let (c, h, w) = (layout.channels, layout.height, layout.width)
    let (ph, pw) = (h / 2, w / 2)
    let zero = SIMD8<Float>()
    Parallel.forEachRange(of: layout.batch, parts: parts) { _, images in
      for n in images {
        for firstChannel in stride(from: 0, to: c, by: 8) {
          let group = layout.group(source, image: n, firstChannel: firstChannel)
          let target = layout.group(sourceGradient, image: n, firstChannel: firstChannel)
          let lanes = group.lanes
          for i in 0..<ph {
            for j in 0..<pw {
              let (row, column) = (2 * i, 2 * j)
              let a = group.load(row, column)
              let b = group.load(row, column + 1)
              let d = group.load(row + 1, column)
              let e = group.load(row + 1, column + 1)
              let maximum = larger(larger(a, b), larger(d, e))
              var gradient = zero
              let origin = pooledGradient + ((n * c + firstChannel) * ph + i) * pw + j
              for lane in 0..<lanes { gradient[lane] = origin[lane * ph * pw] }
              gradient.replace(with: 0, where: maximum .<= 0)
              let isA = a .== maximum
              let isB = (b .== maximum) .& .!isA
              let isD = (d .== maximum) .& .!(isA .| isB)
              let isE = .!(isA .| isB .| isD)
              target.store(zero.replacing(with: gradient, where: isA), row, column)
              target.store(zero.replacing(with: gradient, where: isB), row, column + 1)
              target.store(zero.replacing(with: gradient, where: isD), row + 1, column)
              target.store(zero.replacing(with: gradient, where: isE), row + 1, column + 1)
            }
          }
          // A trailing odd row or column belongs to no window.
          for row in 0..<h where row >= 2 * ph {
            for column in 0..<w { target.store(zero, row, column) }
          }
          for column in 0..<w where column >= 2 * pw {
            for row in 0..<(2 * ph) {
              target.store(zero, row, column)
            }
          }
        }
      }
    }
  }

  /// The lane-wise larger value (the stdlib's `pointwiseMax` follows IEEE `maximum`'s NaN rules
  /// lane by lane, which does not compile to one vector instruction).
  @inline(__always)
  private static func larger(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> {
    a.replacing(with: b, where: b .> a)
  }
}
