import HarmonicFunctions
import TestSupport
import Testing

/// A symmetric weight matrix from an edge list (zero elsewhere, zero diagonal).
private func graph(_ n: Int, _ edges: [(Int, Int, Double)]) -> Matrix {
  var w = Matrix(rows: n, columns: n)
  for (i, j, weight) in edges {
    w[i, j] = weight
    w[j, i] = weight
  }
  return w
}

/// RBF weights of `n` seeded random points in 3 dimensions.
private func randomGraph(_ n: Int, seed: UInt64) -> Matrix {
  var state = seed
  let points = (0..<(n * 3)).map { _ -> Float in
    state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
    return Float(state >> 40) / Float(1 << 24)
  }
  return RBFGraph.weights(points: points, dimension: 3, sigma: 0.6)
}

/// The field of `weights` with `labels` at `labelled`, spread back over all n nodes.
private func fresh(_ weights: Matrix, _ labelled: [Int: Double]) throws -> [Double] {
  let positions = labelled.keys.sorted()
  let field = try HarmonicField(
    weights: weights,
    labelled: positions,
    labels: positions.map { labelled[$0]! }
  )
  var all = [Double](repeating: 0, count: weights.rows)
  let unlabelled = (0..<weights.rows).filter { labelled[$0] == nil }
  for (r, i) in unlabelled.enumerated() { all[i] = field.values[r] }
  for (i, y) in labelled { all[i] = y }
  return all
}

@Test func harmonicSolutionOnAWeightedPathIsTheVoltageDivider() throws {
  // 0 -1- 1 -2- 2 -1- 3 -2- 4 -1- 5, node 0 labelled 0 and node 5 labelled 1. A path is a
  // chain of resistors 1/w = 1, 1/2, 1, 1/2, 1 (total 4): f_i is the resistance from node 0
  // over the total, 1/4, 1.5/4, 2.5/4, 3/4.
  let w = graph(6, [(0, 1, 1), (1, 2, 2), (2, 3, 1), (3, 4, 2), (4, 5, 1)])
  let field = try HarmonicField(weights: w, labelled: [0, 5], labels: [0, 1])
  #expect(firstMismatch(field.values, [0.25, 0.375, 0.625, 0.75], absolute: 1e-12) == nil)
  // G is the inverse of Delta_UU, the tridiagonal [3 -2; -2 3 -1; -1 3 -2; -2 3].
  let delta = [[3.0, -2, 0, 0], [-2, 3, -1, 0], [0, -1, 3, -2], [0, 0, -2, 3]]
  for i in 0..<4 {
    for j in 0..<4 {
      let product = (0..<4).reduce(0.0) { $0 + field.inverse[i, $1] * delta[$1][j] }
      #expect(isClose(product, i == j ? 1 : 0, absolute: 1e-12))
    }
  }
}

@Test func harmonicSolutionOnASixNodeGraphWithACycle() throws {
  // Nodes 0 (label 1) and 5 (label 0); 1, 2, 3, 4 unlabelled; edges with weights:
  // 0-1 2, 0-2 1, 1-2 1, 1-3 1, 2-4 1, 3-4 1, 3-5 1, 4-5 2.
  // The graph maps onto itself under 0<->5, 1<->4, 2<->3 with labels swapped, so
  // f_1 = 1 - f_4 and f_2 = 1 - f_3. The harmonic equations at nodes 1 and 2,
  //   4 f_1 = 2 + f_2 + f_3 = 3,          so f_1 = 3/4,
  //   3 f_2 = 1 + f_1 + f_4 = 2,          so f_2 = 2/3,
  // give f = (3/4, 2/3, 1/3, 1/4).
  let w = graph(
    6,
    [(0, 1, 2), (0, 2, 1), (1, 2, 1), (1, 3, 1), (2, 4, 1), (3, 4, 1), (3, 5, 1), (4, 5, 2)]
  )
  let field = try HarmonicField(weights: w, labelled: [0, 5], labels: [1, 0])
  #expect(firstMismatch(field.values, [0.75, 2.0 / 3, 1.0 / 3, 0.25], absolute: 1e-12) == nil)
}

@Test func rankOneUpdateEqualsAFreshInversion() throws {
  let w = randomGraph(9, seed: 7)
  var field = try HarmonicField(weights: w, labelled: [0, 1], labels: [0, 1])
  // Field position 3 is graph node 5.
  field.label(3, as: 1)
  let expected = try fresh(w, [0: 0, 1: 1, 5: 1])
  #expect(firstMismatch(field.values, Array(expected[2...]), absolute: 1e-10) == nil)
  let reference = try HarmonicField(weights: w, labelled: [0, 1, 5], labels: [0, 1, 1])
  let kept = [0, 1, 2, 4, 5, 6]  // field positions of graph nodes 2, 3, 4, 6, 7, 8
  let updated = field.inverse.submatrix(rows: kept, columns: kept)
  #expect(
    firstMismatch(updated.values, reference.inverse.values, absolute: 1e-9, relative: 1e-7) == nil
  )
}

@Test func blockUpdateEqualsSequentialRankOneUpdates() throws {
  let w = randomGraph(10, seed: 3)
  var sequential = try HarmonicField(weights: w, labelled: [0, 9], labels: [1, 0])
  var block = sequential
  sequential.label(2, as: 0)
  sequential.label(5, as: 1)
  sequential.label(6, as: 1)
  try block.label([2, 5, 6], as: [0, 1, 1])
  #expect(firstMismatch(block.values, sequential.values, absolute: 1e-10) == nil)
  let open = (0..<8).filter { ![2, 5, 6].contains($0) }
  #expect(
    firstMismatch(
      block.inverse.submatrix(rows: open, columns: open).values,
      sequential.inverse.submatrix(rows: open, columns: open).values,
      absolute: 1e-9,
      relative: 1e-7
    ) == nil
  )
  let expected = try fresh(w, [0: 1, 9: 0, 3: 0, 6: 1, 7: 1])
  #expect(firstMismatch(block.values, Array(expected[1...8]), absolute: 1e-10) == nil)
}

@Test func labelledPointsKeepTheirLabelsAndTheRestStaysHarmonic() throws {
  let w = randomGraph(12, seed: 11)
  var field = try HarmonicField(weights: w, labelled: [0, 1], labels: [1, 0])
  try field.label([4, 7], as: [1, 0])
  field.label(2, as: 1)
  #expect(field.values[4] == 1 && field.values[7] == 0 && field.values[2] == 1)
  #expect(field.isLabelled.enumerated().filter(\.element).map(\.offset) == [2, 4, 7])
  // f_i = sum_j w_ij f_j / d_i at every node still unlabelled, over the whole graph.
  let all = [1.0, 0] + field.values
  for r in 0..<field.count where !field.isLabelled[r] {
    let i = r + 2
    let degree = (0..<12).reduce(0.0) { $0 + w[i, $1] }
    let mean = (0..<12).reduce(0.0) { $0 + w[i, $1] * all[$1] } / degree
    #expect(isClose(all[i], mean, absolute: 1e-10))
  }
}

@Test func minimumBayesRiskQueryEqualsBruteForce() throws {
  let w = randomGraph(11, seed: 5)
  let labelled: [Int: Double] = [0: 0, 1: 1]
  let field = try HarmonicField(weights: w, labelled: [0, 1], labels: [0, 1])
  var brute: [Double] = []
  for k in 2..<11 {
    let fk = field.values[k - 2]
    func risk(_ y: Double) throws -> Double {
      var withK = labelled
      withK[k] = y
      let f = try fresh(w, withK)
      return (0..<11).filter { withK[$0] == nil }.reduce(0.0) { $0 + min(f[$1], 1 - f[$1]) }
    }
    brute.append((1 - fk) * (try risk(0)) + fk * (try risk(1)))
  }
  let fast = (0..<9).map { field.expectedRisk(querying: $0) }
  #expect(firstMismatch(fast, brute, absolute: 1e-10) == nil)
  #expect(fast.indices.min { fast[$0] < fast[$1] } == brute.indices.min { brute[$0] < brute[$1] })
}

@Test func classMassNormalisationShiftsTheThresholdToTheLabelledProportion() {
  // Field mass 0.4+0.45+0.9 = 1.75 of 3 points; q = 0.5: class 1 where f/1.75 > (1-f)/1.25,
  // i.e. f > 0.5833: only the third point (thresholding at 0.5 gives the same here).
  #expect(HarmonicField.classMassNormalised([0.4, 0.45, 0.9], classOneFraction: 0.5) == [0, 0, 1])
  // With q = 0.9 the prior pulls the 0.45 point over: 0.9 * 0.45 / 1.75 > 0.1 * 0.55 / 1.25.
  #expect(HarmonicField.classMassNormalised([0.4, 0.45, 0.9], classOneFraction: 0.9) == [1, 1, 1])
  #expect(HarmonicField.thresholded([0.4, 0.5, 0.51]) == [0, 0, 1])
}
