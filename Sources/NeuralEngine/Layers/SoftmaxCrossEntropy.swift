import Foundation

/// Softmax over each row of `[N, C]` logits, and the cross-entropy loss averaged over the batch.
enum SoftmaxCrossEntropy {
  /// Row-wise softmax: `probabilities[n, c] = exp(z[n, c] - max_c z) / Σ exp(...)`.
  static func softmax(
    logits: UnsafePointer<Float>,
    probabilities: UnsafeMutablePointer<Float>,
    rows: Int,
    classes: Int
  ) {
    for row in 0..<rows {
      let z = logits + row * classes
      let p = probabilities + row * classes
      var largest = -Float.infinity
      for c in 0..<classes { largest = max(largest, z[c]) }
      var total: Float = 0
      for c in 0..<classes {
        p[c] = exp(z[c] - largest)
        total += p[c]
      }
      let scale = 1 / total
      for c in 0..<classes { p[c] *= scale }
    }
  }

  /// Writes the softmax of `logits` to `probabilities` and returns the mean cross-entropy
  /// `-(1/N) Σ_n log p[n, label_n]`, computed stably from the logits (log-sum-exp).
  static func forward(
    logits: UnsafePointer<Float>,
    labels: UnsafePointer<Int32>,
    probabilities: UnsafeMutablePointer<Float>,
    rows: Int,
    classes: Int
  ) -> Double {
    softmax(logits: logits, probabilities: probabilities, rows: rows, classes: classes)
    var loss = 0.0
    for row in 0..<rows {
      let z = logits + row * classes
      var largest = -Float.infinity
      for c in 0..<classes { largest = max(largest, z[c]) }
      var total = 0.0
      for c in 0..<classes { total += Double(exp(z[c] - largest)) }
      let label = Int(labels[row])
      precondition(0 <= label && label < classes, "label \(label) outside 0..<\(classes)")
      loss += log(total) - Double(z[label] - largest)
    }
    return loss / Double(rows)
  }

  /// Gradient of the mean loss with respect to the logits: `(p - onehot(label)) / N`.
  static func backward(
    probabilities: UnsafePointer<Float>,
    labels: UnsafePointer<Int32>,
    logitsGradient: UnsafeMutablePointer<Float>,
    rows: Int,
    classes: Int
  ) {
    let scale = 1 / Float(rows)
    for row in 0..<rows {
      for c in 0..<classes {
        logitsGradient[row * classes + c] = probabilities[row * classes + c] * scale
      }
      logitsGradient[row * classes + Int(labels[row])] -= scale
    }
  }
}
