import Foundation
import Testing

@testable import NeuralEngine

@Suite struct AdamTests {
  /// Three steps on one scalar, against values computed by hand (in Double) from
  /// m ← 0.9m + 0.1g, v ← 0.999v + 0.001g², θ ← θ − lr·(m/(1−0.9^t)) / (√(v/(1−0.999^t)) + ε).
  @Test func matchesHandComputedUpdates() {
    let architecture = BayesianCNN.Architecture.paper
    var parameters = ModelParameters(zerosFor: architecture)
    parameters.fc2Bias[0] = 0.5
    var optimizer = Adam(for: architecture)
    let gradientValues: [Float] = [0.2, -0.1, 0.4]
    // Hand computation:
    // t=1: m=0.02, v=4e-5, m̂=0.2, v̂=0.04, step=1e-3·0.2/(0.2+1e-8) → θ=0.499000000050
    // t=2: m=0.008, v=4.996e-5, m̂=0.0421053, v̂=0.0249925 → step=2.66335e-4 → θ=0.498733663
    // t=3: m=0.0472, v=2.0991e-4, m̂=0.174170, v̂=0.0700400 → step=6.58113e-4 → θ=0.498075551
    let expected: [Double] = [0.49900000005, 0.498733663, 0.498075551]
    var theta = 0.5
    var (m, v) = (0.0, 0.0)
    for (step, g) in gradientValues.enumerated() {
      var gradients = ModelParameters(zerosFor: architecture)
      gradients.fc2Bias[0] = g
      optimizer.update(&parameters, along: gradients)
      // Independent Double recomputation of the same formula.
      let t = Double(step + 1)
      m = 0.9 * m + 0.1 * Double(g)
      v = 0.999 * v + 0.001 * Double(g) * Double(g)
      theta -=
        1e-3 * (m / (1 - Foundation.pow(0.9, t)))
        / ((v / (1 - Foundation.pow(0.999, t))).squareRoot() + 1e-8)
      #expect(abs(theta - expected[step]) < 1e-8)
      #expect(abs(Double(parameters.fc2Bias[0]) - expected[step]) < 1e-6)
    }
    #expect(optimizer.step == 3)
    // Parameters with zero gradient never move.
    #expect(parameters.fc2Bias[1] == 0)
    #expect(abs(Double(optimizer.firstMoment.fc2Bias[0]) - m) < 1e-7)
    #expect(abs(Double(optimizer.secondMoment.fc2Bias[0]) - v) < 1e-4 * v)
  }
}
