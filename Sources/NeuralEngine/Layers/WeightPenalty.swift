/// The L2 penalty `λ Σ w²` on one weight tensor (the paper puts it on `fc1.weight` only, with
/// `λ = c / N_train`).
///
/// Shapes: `weights` and `gradient` hold the same number of elements, any shape.
enum WeightPenalty {
  /// Partial sums of the value; fixed, so the value never depends on the core count.
  private static let parts = 8

  /// `λ Σ w²`, accumulated in Double.
  static func forward(weights: UnsafeBufferPointer<Float>, coefficient: Float) -> Double {
    pass(weights: weights, coefficient: coefficient, gradient: nil)
  }

  /// ``forward(weights:coefficient:)``'s value, and its gradient `2 λ w` *added* to `gradient`
  /// (the penalty shares its gradient buffer with the data term), in one pass over the weights.
  static func forwardAndBackward(
    weights: UnsafeBufferPointer<Float>,
    coefficient: Float,
    gradient: UnsafeMutableBufferPointer<Float>
  ) -> Double {
    precondition(weights.count == gradient.count, "penalty gradient size mismatch")
    return pass(weights: weights, coefficient: coefficient, gradient: gradient)
  }

  /// The one loop behind both entry points: the value always, the gradient when asked.
  private static func pass(
    weights: UnsafeBufferPointer<Float>,
    coefficient: Float,
    gradient: UnsafeMutableBufferPointer<Float>?
  ) -> Double {
    let scale = 2 * coefficient
    var partials = [Double](repeating: 0, count: parts)
    partials.withUnsafeMutableBufferPointer { partials in
      Parallel.forEachRange(of: weights.count, parts: parts) { part, range in
        var sum = 0.0
        for index in range {
          let w = weights[index]
          sum += Double(w) * Double(w)
          // A loop-invariant test; only the training step passes a gradient.
          if let gradient { gradient[index] += scale * w }
        }
        partials[part] = sum
      }
    }
    return Double(coefficient) * partials.reduce(0, +)
  }
}
