import Acquisition
import Foundation
import TestSupport
import Testing

/// BatchBALD against BALD, hand-built duplicates and brute-force enumeration of the joint.
@Suite struct BatchBALDTests {
  /// `H(y_1..y_n)` by enumerating every configuration: `p(ŷ) = mean_k Π_i p_k(ŷ_i)`.
  static func bruteForceJointEntropy(_ p: MCProbabilities, _ points: [Int]) -> Double {
    let configurations = Int(pow(Double(p.classes), Double(points.count)))
    var entropy = 0.0
    for index in 0..<configurations {
      var labels: [Int] = []
      var rest = index
      for _ in points {
        labels.append(rest % p.classes)
        rest /= p.classes
      }
      var mass = 0.0
      for k in 0..<p.passes {
        var product = 1.0
        for (point, label) in zip(points, labels) {
          product *= Double(p[pass: k, point: point, class: label])
        }
        mass += product / Double(p.passes)
      }
      if mass > 0 { entropy -= mass * log(mass) }
    }
    return entropy
  }

  /// `I(y_1..y_n; ω)` by brute force.
  static func bruteForceInformation(_ p: MCProbabilities, _ points: [Int]) -> Double {
    let conditional = points.map { n in
      (0..<p.passes).map { k in
        (0..<p.classes).reduce(0.0) { h, c in
          let q = Double(p[pass: k, point: n, class: c])
          return q > 0 ? h - q * log(q) : h
        }
      }.reduce(0, +) / Double(p.passes)
    }
    return bruteForceJointEntropy(p, points) - conditional.reduce(0, +)
  }

  @Test(arguments: 0..<5)
  func batchOfOneIsBALDTopOneExactly(seed: Int) throws {
    var generator = SystemLikeGenerator(seed: UInt64(seed))
    let p = randomProbabilities(passes: 8, points: 40, classes: 4, using: &generator)
    var a = SystemLikeGenerator(seed: 100 + UInt64(seed))
    var b = a
    let batch = try BatchBALD.select(p, count: 1, configurationBudget: 1000, using: &a)
    let bald = AcquisitionFunction.bald.scores(p)
    #expect(batch.picked == Selection.topK(bald, count: 1, using: &b))
    #expect(batch.gains == [bald[batch.picked[0]]])
    // Ties too: all-equal scores (identical points) fall to the same seeded keys.
    let tied = MCProbabilities(
      passes: 2,
      points: 20,
      classes: 2,
      values: (0..<40).flatMap { $0 < 20 ? [Float(0.9), 0.1] : [Float(0.2), 0.8] }
    )
    var c = SystemLikeGenerator(seed: UInt64(seed))
    var d = c
    #expect(
      try BatchBALD.select(tied, count: 1, configurationBudget: 10, using: &c).picked
        == Selection.topK(AcquisitionFunction.bald.scores(tied), count: 1, using: &d)
    )
  }

  @Test func identicalPointsAreNeverBothPickedWhileBALDPicksBoth() throws {
    // Points 0 and 1 are identical and the most uncertain; point 2 is a little less so but
    // disagrees with them in a different way; point 3 is certain.
    let passes: [[[Float]]] = [
      [[0.95, 0.05, 0], [0.95, 0.05, 0], [0.05, 0.9, 0.05], [1, 0, 0]],
      [[0.05, 0.95, 0], [0.05, 0.95, 0], [0.05, 0.1, 0.85], [1, 0, 0]],
      [[0.95, 0.05, 0], [0.95, 0.05, 0], [0.1, 0.05, 0.85], [1, 0, 0]],
      [[0.05, 0.95, 0], [0.05, 0.95, 0], [0.05, 0.9, 0.05], [1, 0, 0]],
    ]
    let p = MCProbabilities(
      passes: 4,
      points: 4,
      classes: 3,
      values: passes.flatMap { $0.flatMap { $0 } }
    )
    for seed in 0..<10 {
      var a = SystemLikeGenerator(seed: UInt64(seed))
      var b = a
      let bald = Selection.topK(AcquisitionFunction.bald.scores(p), count: 2, using: &a)
      #expect(Set(bald) == [0, 1], "BALD ranks the duplicates first")
      let batch = try BatchBALD.select(p, count: 2, configurationBudget: 1000, using: &b)
      #expect(Set(batch.picked) != [0, 1], "BatchBALD took both duplicates: \(batch.picked)")
      #expect(batch.picked.contains(2))
      // The second gain is I(y_a, y_b; ω) - I(y_a; ω), by brute force.
      let expected =
        Self.bruteForceInformation(p, batch.picked)
        - Self.bruteForceInformation(p, [batch.picked[0]])
      #expect(isClose(batch.gains[1], expected, absolute: 1e-6, relative: 1e-6))
    }
  }

  @Test func exactJointEntropyMatchesBruteForceOnThreeClassesThreePoints() {
    var generator = SystemLikeGenerator(seed: 3)
    let p = randomProbabilities(passes: 7, points: 6, classes: 3, using: &generator)
    let batch = [4, 1, 2]
    let exact = BatchBALD.exactJointEntropy(p, points: batch)
    #expect(isClose(exact, Self.bruteForceJointEntropy(p, batch), absolute: 1e-9, relative: 1e-9))
    // And the step that adds a fourth point, with every candidate, exactly (27 <= budget).
    var unused = SystemLikeGenerator(seed: 0)
    let joint = BatchBALD.jointEntropies(p, batch: batch, budget: 27, using: &unused)
    for candidate in [0, 3, 5] {
      let brute = Self.bruteForceJointEntropy(p, batch + [candidate])
      #expect(isClose(joint[candidate], brute, absolute: 1e-6, relative: 1e-6))
    }
  }

  @Test func sampledEstimateConvergesToTheExactValue() {
    var generator = SystemLikeGenerator(seed: 11)
    let p = randomProbabilities(passes: 10, points: 8, classes: 4, using: &generator)
    let batch = [0, 1, 2, 3, 4, 5]  // 4^6 = 4096 configurations: every budget below samples
    let exact = (6..<8).map { Self.bruteForceJointEntropy(p, batch + [$0]) }
    var meanErrors: [Double] = []
    for budget in [16, 256, 4000] {
      var total = 0.0
      for seed in 0..<8 {
        var sampler = SystemLikeGenerator(seed: UInt64(1000 * budget + seed))
        let estimate = BatchBALD.jointEntropies(p, batch: batch, budget: budget, using: &sampler)
        total += abs(estimate[6] - exact[0]) + abs(estimate[7] - exact[1])
      }
      meanErrors.append(total / 16)
    }
    #expect(meanErrors[0] > meanErrors[1] && meanErrors[1] > meanErrors[2], "\(meanErrors)")
    // log C / sqrt(M) bounds the conditional term's standard deviation; the batch's own
    // entropy estimate adds as much again.
    #expect(meanErrors[2] < 2 * log(4.0) / sqrt(4000.0), "\(meanErrors)")
  }

  @Test func badInputNamesTheKeyAndTheLimit() {
    var generator = SystemLikeGenerator(seed: 1)
    let p = randomProbabilities(passes: 3, points: 5, classes: 3, using: &generator)
    #expect(throws: BatchBALD.Failure.batchLargerThanSubset(batch: 6, points: 5)) {
      try BatchBALD.select(p, count: 6, configurationBudget: 10, using: &generator)
    }
    #expect(throws: BatchBALD.Failure.emptyBudget(0)) {
      try BatchBALD.select(p, count: 2, configurationBudget: 0, using: &generator)
    }
    let one = randomProbabilities(passes: 1, points: 5, classes: 3, using: &generator)
    #expect(throws: BatchBALD.Failure.tooFewPasses(1)) {
      try BatchBALD.select(one, count: 2, configurationBudget: 10, using: &generator)
    }
    #expect(
      "\(BatchBALD.Failure.batchLargerThanSubset(batch: 6, points: 5))".contains("acquire-count=6")
    )
    #expect("\(BatchBALD.Failure.emptyBudget(0))".contains("batchbald-configurations=0"))
    #expect("\(BatchBALD.Failure.tooFewPasses(1))".contains("mc-samples=1"))
  }
}
