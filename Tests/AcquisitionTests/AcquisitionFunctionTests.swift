import Acquisition
import Foundation
import TestSupport
import Testing

/// Tiny T x N x C arrays whose scores were computed by hand (natural log).
struct PinnedCase: Sendable, CustomTestStringConvertible {
  let name: String
  let probabilities: MCProbabilities
  let expected: [AcquisitionFunction: Double]
  var testDescription: String { name }
}

let pinnedCases: [PinnedCase] = [
  // Two passes that disagree completely: maximal disagreement between weights.
  // mean = [0.5, 0.5]; H(mean) = log 2; each pass has entropy 0.
  PinnedCase(
    name: "total disagreement",
    probabilities: MCProbabilities(passes: 2, points: 1, classes: 2, values: [1, 0, 0, 1]),
    expected: [
      .bald: log(2), .maxEntropy: log(2), .varRatios: 0.5, .varRatiosMean: 0.5, .meanSTD: 0.5,
      .random: 0,
    ]
  ),
  // Two passes that agree on maximal uncertainty: aleatoric, not epistemic, so BALD = 0.
  // Argmax ties go to class 0 on both passes, so the mode count is 2: VR = 0.
  PinnedCase(
    name: "agreed uncertainty",
    probabilities: MCProbabilities(passes: 2, points: 1, classes: 2, values: [0.5, 0.5, 0.5, 0.5]),
    expected: [
      .bald: 0, .maxEntropy: log(2), .varRatios: 0, .varRatiosMean: 0.5, .meanSTD: 0, .random: 0,
    ]
  ),
  // Three passes over three classes:
  // p1 = [.7 .2 .1], p2 = [.1 .8 .1], p3 = [.6 .3 .1]; mean = [.4667 .4333 .1].
  // H(mean) = 0.948298; mean H = (0.801819 + 0.639032 + 0.897946)/3 = 0.779599;
  // BALD = 0.168699. Argmaxes 0, 1, 0 -> mode 2 of 3 -> VR = 1/3. 1 - max mean = 0.5333.
  // Stds per class: 0.262467, 0.262467, 0 -> Mean STD = 0.174978.
  PinnedCase(
    name: "three passes",
    probabilities: MCProbabilities(
      passes: 3,
      points: 1,
      classes: 3,
      values: [0.7, 0.2, 0.1, 0.1, 0.8, 0.1, 0.6, 0.3, 0.1]
    ),
    expected: [
      .bald: 0.168699298, .maxEntropy: 0.948298011, .varRatios: 1.0 / 3,
      .varRatiosMean: 0.533333333, .meanSTD: 0.174977953, .random: 0,
    ]
  ),
]

@Test(arguments: pinnedCases)
func scoresMatchHandComputedValues(_ pinned: PinnedCase) {
  for (function, expected) in pinned.expected {
    let score = function.scores(pinned.probabilities)[0]
    // Inputs are Float32, so agreement is to about 1e-7 relative.
    #expect(
      isClose(score, expected, absolute: 1e-6, relative: 1e-6),
      "\(function) on \(pinned.name): \(score) != \(expected)"
    )
  }
}

@Test func zeroProbabilitiesNeverGiveNaN() {
  let p = MCProbabilities(
    passes: 2,
    points: 2,
    classes: 3,
    values: [1, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 1]
  )
  for function in AcquisitionFunction.allCases where function.scoresProbabilitySamples {
    #expect(
      function.scores(p).allSatisfy { $0.isFinite },
      "\(function) produced a non-finite score"
    )
  }
}

/// Random softmax-like probabilities: positive, summing to 1 per (pass, point).
func randomProbabilities(
  passes: Int,
  points: Int,
  classes: Int,
  using generator: inout some RandomNumberGenerator
) -> MCProbabilities {
  var values: [Float] = []
  for _ in 0..<(passes * points) {
    // Peaked logits make some passes confident, so the properties are tested across regimes.
    let logits = (0..<classes).map { _ in Float.random(in: -4...4, using: &generator) }
    let maxLogit = logits.max()!
    let exps = logits.map { Foundation.exp($0 - maxLogit) }
    let total = exps.reduce(0, +)
    values += exps.map { $0 / total }
  }
  return MCProbabilities(passes: passes, points: points, classes: classes, values: values)
}

@Test(arguments: [1, 2, 7, 50])
func baldIsBetweenZeroAndMaxEntropyWhichIsAtMostLogC(passes: Int) {
  var generator = SystemLikeGenerator(seed: UInt64(passes))
  let p = randomProbabilities(passes: passes, points: 200, classes: 10, using: &generator)
  let bald = AcquisitionFunction.bald.scores(p)
  let entropy = AcquisitionFunction.maxEntropy.scores(p)
  for n in 0..<p.points {
    #expect(bald[n] >= 0)
    #expect(bald[n] <= entropy[n] + 1e-9)
    #expect(entropy[n] <= log(10.0) + 1e-9)
  }
  if passes == 1 { #expect(bald.allSatisfy { $0 == 0 }, "T = 1 must make BALD exactly 0") }
}

@Test(arguments: AcquisitionFunction.allCases.filter(\.scoresProbabilitySamples))
func scoresAreInvariantToPermutingPasses(_ function: AcquisitionFunction) {
  var generator = SystemLikeGenerator(seed: 42)
  let p = randomProbabilities(passes: 6, points: 50, classes: 10, using: &generator)
  let block = p.points * p.classes
  let order = [3, 0, 5, 1, 4, 2]
  var permuted: [Float] = []
  for t in order { permuted += p.values[(t * block)..<((t + 1) * block)] }
  let q = MCProbabilities(passes: 6, points: 50, classes: 10, values: permuted)
  let (a, b) = (function.scores(p), function.scores(q))
  #expect(firstMismatch(a, b, absolute: 1e-12, relative: 1e-9) == nil)
}

@Test func deterministicModeCountVariationRatiosIsConstant() {
  var generator = SystemLikeGenerator(seed: 7)
  let p = randomProbabilities(passes: 1, points: 100, classes: 10, using: &generator)
  #expect(AcquisitionFunction.varRatios.scores(p).allSatisfy { $0 == 0 })
  #expect(Set(AcquisitionFunction.varRatiosMean.scores(p)).count > 1)
}

/// A small local generator so these tests do not depend on the engine module.
struct SystemLikeGenerator: RandomNumberGenerator {
  var state: UInt64
  init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}
