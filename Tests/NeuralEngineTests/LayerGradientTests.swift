import Foundation
import Testing

@testable import NeuralEngine

/// Finite-difference checks of every hand-written backward pass on tiny shapes. Each loss is
/// `Σ r ⊙ output` with fixed random `r`, so the output gradient is `r`.
@Suite struct LayerGradientTests {
  @Test func denseMatchesFiniteDifferences() {
    let (n, inputs, outputs) = (3, 5, 4)
    var input = randomFloats(n * inputs, seed: 1)
    var weight = randomFloats(outputs * inputs, seed: 2)
    var bias = randomFloats(outputs, seed: 3)
    let r = randomFloats(n * outputs, seed: 4)
    func loss(_ x: [Float], _ w: [Float], _ b: [Float]) -> Double {
      var y = [Float](repeating: 0, count: n * outputs)
      Dense.forward(
        input: x,
        weight: w,
        bias: b,
        output: &y,
        batch: n,
        inputs: inputs,
        outputs: outputs
      )
      return zip(y, r).reduce(0) { $0 + Double($1.0) * Double($1.1) }
    }
    var inputGradient = [Float](repeating: 0, count: n * inputs)
    var weightGradient = [Float](repeating: 0, count: outputs * inputs)
    var biasGradient = [Float](repeating: 0, count: outputs)
    Dense.backward(
      outputGradient: r,
      input: input,
      weight: weight,
      inputGradient: &inputGradient,
      weightGradient: &weightGradient,
      biasGradient: &biasGradient,
      batch: n,
      inputs: inputs,
      outputs: outputs
    )
    let (w, b, x) = (weight, bias, input)
    let all = Array(0..<(n * inputs))
    #expect(
      gradientMismatch(
        analytic: inputGradient.map(Double.init),
        numeric: numericalGradient(of: &input, at: all) { loss($0, w, b) }
      ) == nil
    )
    #expect(
      gradientMismatch(
        analytic: weightGradient.map(Double.init),
        numeric: numericalGradient(of: &weight, at: Array(0..<(outputs * inputs))) {
          loss(x, $0, b)
        }
      ) == nil
    )
    #expect(
      gradientMismatch(
        analytic: biasGradient.map(Double.init),
        numeric: numericalGradient(of: &bias, at: Array(0..<outputs)) { loss(x, w, $0) }
      ) == nil
    )
  }

  @Test func reluMatchesFiniteDifferences() {
    // Values kept away from the kink so that a step of 1e-3 never crosses it.
    var input = randomFloats(20, seed: 5).map { $0 + ($0 >= 0 ? 0.1 : -0.1) }
    let r = randomFloats(20, seed: 6)
    func loss(_ x: [Float]) -> Double {
      var y = [Float](repeating: 0, count: x.count)
      ReLU.forward(input: x, output: &y, count: x.count)
      return zip(y, r).reduce(0) { $0 + Double($1.0) * Double($1.1) }
    }
    var output = [Float](repeating: 0, count: 20)
    ReLU.forward(input: input, output: &output, count: 20)
    var gradient = [Float](repeating: 0, count: 20)
    ReLU.backward(output: output, outputGradient: r, inputGradient: &gradient, count: 20)
    #expect(
      gradientMismatch(
        analytic: gradient.map(Double.init),
        numeric: numericalGradient(of: &input, at: Array(0..<20), loss: loss)
      ) == nil
    )
    #expect(gradient.contains(0) && gradient.contains { $0 != 0 })
  }

  @Test func dropoutWithFixedMaskMatchesFiniteDifferences() {
    let sampler = DropoutMaskSampler(rate: 0.5)
    var mask = [Float](repeating: 0, count: 64)
    var generator = SeededGenerator(seed: 7)
    sampler.fill(&mask, count: 64, generator: &generator)
    #expect(Set(mask) == [0, 2])
    var input = randomFloats(64, seed: 8)
    let r = randomFloats(64, seed: 9)
    func loss(_ x: [Float]) -> Double {
      var y = [Float](repeating: 0, count: 64)
      Dropout.forward(input: x, mask: mask, output: &y, count: 64)
      return zip(y, r).reduce(0) { $0 + Double($1.0) * Double($1.1) }
    }
    var gradient = [Float](repeating: 0, count: 64)
    Dropout.backward(outputGradient: r, mask: mask, inputGradient: &gradient, count: 64)
    #expect(
      gradientMismatch(
        analytic: gradient.map(Double.init),
        numeric: numericalGradient(of: &input, at: Array(0..<64), loss: loss)
      ) == nil
    )
  }

  @Test func softmaxCrossEntropyMatchesFiniteDifferences() {
    let (rows, classes) = (3, 4)
    var logits = randomFloats(rows * classes, seed: 10, scale: 3)
    let labels: [Int32] = [2, 0, 3]
    func loss(_ z: [Float]) -> Double {
      var p = [Float](repeating: 0, count: z.count)
      return SoftmaxCrossEntropy.forward(
        logits: z,
        labels: labels,
        probabilities: &p,
        rows: rows,
        classes: classes
      )
    }
    var probabilities = [Float](repeating: 0, count: rows * classes)
    let value = SoftmaxCrossEntropy.forward(
      logits: logits,
      labels: labels,
      probabilities: &probabilities,
      rows: rows,
      classes: classes
    )
    // Reference in Double: mean of log-sum-exp minus the label logit.
    var reference = 0.0
    for row in 0..<rows {
      let z = logits[(row * classes)..<((row + 1) * classes)].map(Double.init)
      reference += Foundation.log(z.map { Foundation.exp($0) }.reduce(0, +)) - z[Int(labels[row])]
    }
    #expect(abs(value - reference / Double(rows)) < 1e-6)
    var gradient = [Float](repeating: 0, count: rows * classes)
    SoftmaxCrossEntropy.backward(
      probabilities: probabilities,
      labels: labels,
      logitsGradient: &gradient,
      rows: rows,
      classes: classes
    )
    #expect(
      gradientMismatch(
        analytic: gradient.map(Double.init),
        numeric: numericalGradient(of: &logits, at: Array(0..<(rows * classes)), loss: loss),
        absolute: 1e-4
      ) == nil
    )
  }

  @Test func weightPenaltyMatchesFiniteDifferences() {
    var weights = randomFloats(10, seed: 11)
    let coefficient: Float = 0.175
    let value = weights.withUnsafeBufferPointer {
      WeightPenalty.forward(weights: $0, coefficient: coefficient)
    }
    #expect(
      abs(value - 0.175 * weights.reduce(0) { $0 + Double($1) * Double($1) }) < 1e-6
    )
    var gradient = [Float](repeating: 1, count: 10)  // accumulates onto existing values
    let fusedValue = weights.withUnsafeBufferPointer { w in
      gradient.withUnsafeMutableBufferPointer {
        WeightPenalty.forwardAndBackward(weights: w, coefficient: coefficient, gradient: $0)
      }
    }
    #expect(fusedValue == value)
    let numeric = numericalGradient(of: &weights, at: Array(0..<10)) { w in
      w.withUnsafeBufferPointer { WeightPenalty.forward(weights: $0, coefficient: coefficient) }
    }
    #expect(
      gradientMismatch(analytic: gradient.map { Double($0) - 1 }, numeric: numeric) == nil
    )
  }

  /// On a size that runs in parallel parts, the value is the Double sum of squares and the
  /// gradient `2 λ w` lands on every element exactly once.
  @Test func weightPenaltyCoversEveryElementOnce() {
    let weights = randomFloats(200_003, seed: 12)
    let coefficient: Float = 0.0035
    let start = randomFloats(weights.count, seed: 13)
    var gradient = start
    let value = weights.withUnsafeBufferPointer { w in
      gradient.withUnsafeMutableBufferPointer {
        WeightPenalty.forwardAndBackward(weights: w, coefficient: coefficient, gradient: $0)
      }
    }
    let expected = Double(coefficient) * weights.reduce(0) { $0 + Double($1) * Double($1) }
    #expect(abs(value - expected) <= 1e-9 * expected)
    let scale = 2 * coefficient
    #expect(zip(gradient, zip(start, weights)).allSatisfy { $0 == $1.0 + scale * $1.1 })
  }
}
