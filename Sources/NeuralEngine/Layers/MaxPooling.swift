/// 2x2, stride-2 max pooling (floor mode: a trailing odd row or column is dropped) of ReLU
/// outputs, 8 or 16 channels at a time, straight from the convolution output in the layout
/// oneDNN chose (`nChw8c`, `nChw16c`, `nhwc`, or any other ``ActivationLayout``).
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

  /// `pooled[n, c, i, j] = max` of `source[n, c, 2i..2i+1, 2j..2j+1]`, in vectors of
  /// ``ActivationLayout/kernelLanes`` channels.
  static func forward(
    source: UnsafePointer<Float>,
    layout: ActivationLayout,
    pooled: UnsafeMutablePointer<Float>
  ) {
    func run<V: KernelVector>(_ lanes: V.Type) {
      forward(source: source, layout: layout, pooled: pooled, lanes: lanes)
    }
    if layout.kernelLanes == 16 { run(SIMD16<Float>.self) } else { run(SIMD8<Float>.self) }
  }

  /// ``forward(source:layout:pooled:)`` in vectors of `V` (any layout, any width).
  static func forward<V: KernelVector>(
    source: UnsafePointer<Float>,
    layout: ActivationLayout,
    pooled: UnsafeMutablePointer<Float>,
    lanes _: V.Type
  ) {
    let (c, ph, pw) = (layout.channels, layout.height / 2, layout.width / 2)
    let (plane, width) = (ph * pw, V.scalarCount)
    Parallel.forEachRange(of: layout.batch, parts: parts) { _, images in
      // One output row of window maxima, `width` channels each, stored as vectors and read
      // back lane by lane into the plain order. Going through this buffer keeps the maxima as
      // vector `maxps`: stored lane by lane straight from the comparison, LLVM turned the
      // select into data-dependent branches per window (the kernel took 0.24 s instead of
      // 0.16 s of a 10,000-image evaluation).
      withUnsafeTemporaryAllocation(of: Float.self, capacity: max(pw, 1) * width) { buffer in
        let row = buffer.baseAddress!
        for n in images {
          for firstChannel in stride(from: 0, to: c, by: width) {
            let group = layout.group(source, image: n, firstChannel: firstChannel, as: V.self)
            let target = pooled + (n * c + firstChannel) * plane
            for i in 0..<ph {
              let (top, bottom) = (2 * i, 2 * i + 1)
              for j in 0..<pw {
                let (left, right) = (2 * j, 2 * j + 1)
                let maximum = V.windowMaximum(
                  group.load(top, left),
                  group.load(top, right),
                  group.load(bottom, left),
                  group.load(bottom, right)
                )
                maximum.store(to: row + j * width)
              }
              for lane in 0..<group.lanes {
                let output = target + lane * plane + i * pw
                for j in 0..<pw { output[j] = row[j * width + lane] }
              }
            }
          }
        }
      }
    }
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
    func run<V: KernelVector>(_ lanes: V.Type) {
      backwardThroughReLU(
        source: source,
        layout: layout,
        pooledGradient: pooledGradient,
        sourceGradient: sourceGradient,
        lanes: lanes
      )
    }
    if layout.kernelLanes == 16 { run(SIMD16<Float>.self) } else { run(SIMD8<Float>.self) }
  }

  /// ``backwardThroughReLU(source:layout:pooledGradient:sourceGradient:)`` in vectors of `V`.
  static func backwardThroughReLU<V: KernelVector>(
    source: UnsafePointer<Float>,
    layout: ActivationLayout,
    pooledGradient: UnsafePointer<Float>,
    sourceGradient: UnsafeMutablePointer<Float>,
    lanes _: V.Type
  ) {
    let (c, h, w) = (layout.channels, layout.height, layout.width)
    let (ph, pw) = (h / 2, w / 2)
    let (plane, width) = (ph * pw, V.scalarCount)
    Parallel.forEachRange(of: layout.batch, parts: parts) { _, images in
      // One row of the pooled gradient, `width` channels per window, gathered from the plain
      // order (the reverse of the forward pass's row buffer).
      withUnsafeTemporaryAllocation(of: Float.self, capacity: max(pw, 1) * width) { buffer in
        let row = buffer.baseAddress!
        row.initialize(repeating: 0, count: buffer.count)
        for n in images {
          for firstChannel in stride(from: 0, to: c, by: width) {
            let group = layout.group(source, image: n, firstChannel: firstChannel, as: V.self)
            let target = layout.group(
              sourceGradient,
              image: n,
              firstChannel: firstChannel,
              as: V.self
            )
            let origin = pooledGradient + (n * c + firstChannel) * plane
            for i in 0..<ph {
              for lane in 0..<group.lanes {
                let input = origin + lane * plane + i * pw
                for j in 0..<pw { row[j * width + lane] = input[j] }
              }
              let (top, bottom) = (2 * i, 2 * i + 1)
              for j in 0..<pw {
                let (left, right) = (2 * j, 2 * j + 1)
                let a = group.load(top, left)
                let b = group.load(top, right)
                let d = group.load(bottom, left)
                let maximum = V.windowMaximum(a, b, d, group.load(bottom, right))
                let (toA, toB, toD, toE) = V.load(row + j * width)
                  .routedToFirstMaximum(maximum, a, b, d)
                target.store(toA, top, left)
                target.store(toB, top, right)
                target.store(toD, bottom, left)
                target.store(toE, bottom, right)
              }
            }
            // A trailing odd row or column belongs to no window.
            for row in 0..<h where row >= 2 * ph {
              for column in 0..<w { target.store(V(), row, column) }
            }
            for column in 0..<w where column >= 2 * pw {
              for row in 0..<(2 * ph) { target.store(V(), row, column) }
            }
          }
        }
      }
    }
  }
}
