import TestSupport

@testable import NeuralEngine

/// Central finite differences of a scalar function of one buffer, at selected indices.
///
/// `loss` must evaluate the function on the current contents of `values`.
func numericalGradient(
  of values: inout [Float],
  at indices: [Int],
  step: Float = 1e-3,
  loss: ([Float]) -> Double
) -> [Double] {
  indices.map { index in
    let original = values[index]
    values[index] = original + step
    let plus = loss(values)
    values[index] = original - step
    let minus = loss(values)
    values[index] = original
    return (plus - minus) / (2 * Double(step))
  }
}

/// Deterministic pseudo-random floats in `[-scale, scale)`.
func randomFloats(_ count: Int, seed: UInt64, scale: Float = 1) -> [Float] {
  var generator = SeededGenerator(seed: seed)
  return (0..<count).map { _ in (2 * generator.nextUniformFloat() - 1) * scale }
}

/// Up to `count` evenly spread indices of a buffer of `size` elements.
func sampleIndices(_ size: Int, count: Int) -> [Int] {
  guard size > count else { return Array(0..<size) }
  return (0..<count).map { $0 * size / count + ($0 * 7) % max(1, size / count) }
}

/// The first gradient entry outside `absolute + relative · max(|a|, |n|)`, as a message.
func gradientMismatch(
  analytic: [Double],
  numeric: [Double],
  absolute: Double = 2e-3,
  relative: Double = 2e-2
) -> String? {
  for (index, (a, n)) in zip(analytic, numeric).enumerated()
  where !isClose(a, n, absolute: absolute, relative: relative) {
    return "entry \(index): analytic \(a), numeric \(n)"
  }
  return nil
}
