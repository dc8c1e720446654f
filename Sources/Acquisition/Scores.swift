#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The score formulas, accumulated in Double for stability (inputs are Float32 probabilities).
enum Scores {
  /// `x log x` with the limit `0 log 0 = 0`; negative inputs (never produced by softmax) are
  /// treated as 0 so a score can never become NaN.
  @inline(__always)
  static func xlogx(_ x: Double) -> Double { x > 0 ? x * log(x) : 0 }

  /// Mean probability over passes for each point and class: `[N, C]`.
  static func meanProbabilities(_ p: MCProbabilities) -> [Double] {
    var mean = [Double](repeating: 0, count: p.points * p.classes)
    p.values.withUnsafeBufferPointer { values in
      for t in 0..<p.passes {
        let base = t * p.points * p.classes
        for i in 0..<(p.points * p.classes) { mean[i] += Double(values[base + i]) }
      }
    }
    let scale = 1 / Double(p.passes)
    for i in mean.indices { mean[i] *= scale }
    return mean
  }

  static func maxEntropy(_ p: MCProbabilities) -> [Double] {
    let mean = meanProbabilities(p)
    return (0..<p.points).map { n in
      var h = 0.0
      for c in 0..<p.classes { h -= xlogx(mean[n * p.classes + c]) }
      return max(0, h)
    }
  }

  /// Per point, the sum over passes of the entropy of each pass, `Σ_t H[p_t]`.
  static func passEntropySums(_ p: MCProbabilities) -> [Double] {
    var sums = [Double](repeating: 0, count: p.points)
    p.values.withUnsafeBufferPointer { values in
      for t in 0..<p.passes {
        for n in 0..<p.points {
          let base = (t * p.points + n) * p.classes
          var h = 0.0
          for c in 0..<p.classes { h -= xlogx(Double(values[base + c])) }
          sums[n] += h
        }
      }
    }
    return sums
  }

  /// Per point, the expected entropy of one pass, `mean_t H[p_t]` (BALD's second term).
  static func meanConditionalEntropy(_ p: MCProbabilities) -> [Double] {
    passEntropySums(p).map { $0 / Double(p.passes) }
  }

  static func bald(_ p: MCProbabilities) -> [Double] {
    let entropyOfMean = maxEntropy(p)
    let meanEntropy = passEntropySums(p)
    // Samples that agree exactly (one pass, or an ensemble of identical members) carry no
    // disagreement: BALD is exactly 0 there, not the rounding residue of the two entropies.
    // No cached score changes: one pass gave exactly 0 before, and T MC-dropout passes agree
    // bit for bit only where the softmax saturates to exact 0s and 1s, whose entropies are 0.
    let agreeing = (0..<p.points).map { n in
      p.values.withUnsafeBufferPointer { values in
        (1..<p.passes).allSatisfy { t in
          (0..<p.classes).allSatisfy { c in
            values[(t * p.points + n) * p.classes + c] == values[n * p.classes + c]
          }
        }
      }
    }
    // Jensen: H[mean] >= mean H, so the clamp only removes rounding residue.
    return (0..<p.points).map { n in
      agreeing[n] ? 0 : max(0, entropyOfMean[n] - meanEntropy[n] / Double(p.passes))
    }
  }

  static func variationRatios(_ p: MCProbabilities) -> [Double] {
    var counts = [Int](repeating: 0, count: p.points * p.classes)
    for t in 0..<p.passes {
      for n in 0..<p.points {
        let base = (t * p.points + n) * p.classes
        // argmax with ties to the lowest class index, as numpy's argmax.
        var best = 0
        for c in 1..<max(1, p.classes) where p.values[base + c] > p.values[base + best] { best = c }
        counts[n * p.classes + best] += 1
      }
    }
    return (0..<p.points).map { n in
      let mode = counts[(n * p.classes)..<((n + 1) * p.classes)].max() ?? 0
      return 1 - Double(mode) / Double(p.passes)
    }
  }

  static func variationRatiosOfMean(_ p: MCProbabilities) -> [Double] {
    let mean = meanProbabilities(p)
    return (0..<p.points).map { n in
      1 - (mean[(n * p.classes)..<((n + 1) * p.classes)].max() ?? 0)
    }
  }

  static func meanStandardDeviation(_ p: MCProbabilities) -> [Double] {
    let mean = meanProbabilities(p)
    var meanOfSquares = [Double](repeating: 0, count: p.points * p.classes)
    for t in 0..<p.passes {
      let base = t * p.points * p.classes
      for i in 0..<(p.points * p.classes) {
        let x = Double(p.values[base + i])
        meanOfSquares[i] += x * x
      }
    }
    let scale = 1 / Double(p.passes)
    return (0..<p.points).map { n in
      var total = 0.0
      for c in 0..<p.classes {
        let i = n * p.classes + c
        total += max(0, meanOfSquares[i] * scale - mean[i] * mean[i]).squareRoot()
      }
      return total / Double(p.classes)
    }
  }
}
