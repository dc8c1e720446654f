/// The L2 penalty `λ Σ w²` on one weight tensor (the paper puts it on `fc1.weight` only, with
/// `λ = c / N_train`).
enum WeightPenalty {
  /// Partial sums of the forward pass; fixed, so the value never depends on the core count.
  private static let parts = 8

  /// `λ Σ w²`, accumulated in Double.
  static func forward(weights: UnsafeBufferPointer<Float>, coefficient: Float) -> Double {
    var partials = [Double](repeating: 0, count: parts)
    partials.withUnsafeMutableBufferPointer { partials in
      Parallel.forEachRange(of: weights.count, parts: parts) { part, range in
        var sum = 0.0
        for index in range { sum += Double(weights[index]) * Double(weights[index]) }
        partials[part] = sum
      }
    }
    return Double(coefficient) * partials.reduce(0, +)
  }

  /// Adds the penalty's gradient `2 λ w` to `gradient` (accumulates, like every other backward
  /// step that shares a gradient buffer).
  static func backward(
    weights: UnsafeBufferPointer<Float>,
    coefficient: Float,
    gradient: UnsafeMutableBufferPointer<Float>
  ) {
    precondition(weights.count == gradient.count, "penalty gradient size mismatch")
    let scale = 2 * coefficient
    Parallel.forEachChunk(of: weights.count) { range in
      for index in range { gradient[index] += scale * weights[index] }
    }
  }

  /// ``forward(weights:coefficient:)`` and ``backward(weights:coefficient:gradient:)`` in one
  /// pass over the weights (the training step's form; the same values as the two passes).
  static func forwardAndBackward(
    weights: UnsafeBufferPointer<Float>,
    coefficient: Float,
    gradient: UnsafeMutableBufferPointer<Float>
  ) -> Double {
    precondition(weights.count == gradient.count, "penalty gradient size mismatch")
    let scale = 2 * coefficient
    var partials = [Double](repeating: 0, count: parts)
    partials.withUnsafeMutableBufferPointer { partials in
      Parallel.forEachRange(of: weights.count, parts: parts) { part, range in
        var sum = 0.0
        for index in range {
          let w = weights[index]
          sum += Double(w) * Double(w)
          gradient[index] += scale * w
        }
        partials[part] = sum
      }
    }
    return Double(coefficient) * partials.reduce(0, +)
  }
}
