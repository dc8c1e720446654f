/// The L2 penalty `λ Σ w²` on one weight tensor (the paper puts it on `fc1.weight` only, with
/// `λ = c / N_train`).
enum WeightPenalty {
  /// `λ Σ w²`, accumulated in Double.
  static func forward(weights: UnsafeBufferPointer<Float>, coefficient: Float) -> Double {
    var sum = 0.0
    for w in weights { sum += Double(w) * Double(w) }
    return Double(coefficient) * sum
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
    for index in weights.indices { gradient[index] += scale * weights[index] }
  }
}
