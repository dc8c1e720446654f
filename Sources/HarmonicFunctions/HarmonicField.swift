import Foundation

/// The harmonic function of a Gaussian random field on a weighted graph with two classes, and
/// the Minimum Bayes Risk query selection built on it (Zhu, Ghahramani & Lafferty, ICML 2003,
/// "Semi-supervised learning using Gaussian fields and harmonic functions"; Zhu, Lafferty &
/// Ghahramani, ICML 2003 workshop, "Combining active learning and semi-supervised learning
/// using Gaussian fields and harmonic functions").
///
/// With weights `W` (`[n, n]`, symmetric, zero diagonal), degrees `d_i = sum_j w_ij` and the
/// combinatorial Laplacian `Delta = D - W`, the labelled nodes `L` carry labels
/// `f_L` in {0, 1} and the unlabelled nodes `U` the harmonic solution
/// `f_U = (D_UU - W_UU)^-1 W_UL f_L`: each `f_i` is the weighted mean of its neighbours, and
/// `f_i` estimates `P(y_i = 1)`. The field keeps `G = Delta_UU^-1` over the nodes that were
/// unlabelled when it was built; labelling node `k` with `y_k` later is the rank-one update
/// `f <- f + (y_k - f_k) G_k / G_kk`, `G <- G - G_k G_k' / G_kk` (`G_k` the k-th column), so
/// no matrix is inverted again. All positions below are positions among those nodes
/// (`0..<count`).
public struct HarmonicField: Sendable {
  /// `G = Delta_UU^-1` after the labels applied so far (`[count, count]`; rows and columns of
  /// labelled nodes are 0 up to rounding and never read).
  public private(set) var inverse: Matrix
  /// The field `f` at each node: the harmonic solution at unlabelled nodes, the label (0 or 1)
  /// at labelled ones.
  public private(set) var values: [Double]
  /// Whether each node has been labelled since the field was built.
  public private(set) var isLabelled: [Bool]

  /// The number of nodes the field covers.
  public var count: Int { values.count }

  /// A field from its parts (as stored by a pipeline artifact).
  ///
  /// - Precondition: `inverse` is `[values.count, values.count]`.
  public init(inverse: Matrix, values: [Double], isLabelled: [Bool]? = nil) {
    precondition(
      inverse.rows == values.count && inverse.columns == values.count,
      "HarmonicField: inverse \(inverse.rows)x\(inverse.columns) for \(values.count) nodes"
    )
    self.inverse = inverse
    self.values = values
    self.isLabelled = isLabelled ?? [Bool](repeating: false, count: values.count)
  }

  /// Builds the field of the graph `weights` (`[n, n]`) whose nodes `labelled` (positions in
  /// `0..<n`) carry `labels` (0 or 1): inverts `Delta_UU` once (Cholesky, LAPACK `dpotrf` and
  /// `dpotri`). The field's nodes are the other positions, ascending.
  ///
  /// - Throws: ``HarmonicError/notPositiveDefinite(what:order:)`` when `Delta_UU` is singular
  ///   in floating point (an unlabelled component not connected to any labelled node, or RBF
  ///   weights that underflow to 0 because sigma is too small for the data).
  public init(weights: Matrix, labelled: [Int], labels: [Double]) throws(HarmonicError) {
    precondition(weights.rows == weights.columns, "HarmonicField: weights not square")
    precondition(labelled.count == labels.count, "HarmonicField: one label per labelled node")
    let n = weights.rows
    var isLabelledNode = [Bool](repeating: false, count: n)
    for position in labelled { isLabelledNode[position] = true }
    let unlabelled = (0..<n).filter { !isLabelledNode[$0] }
    var degrees = [Double](repeating: 0, count: n)
    for i in 0..<n {
      var sum = 0.0
      for j in 0..<n { sum += weights[i, j] }
      degrees[i] = sum
    }
    var laplacian = weights.submatrix(rows: unlabelled, columns: unlabelled)
    for (r, i) in unlabelled.enumerated() {
      for c in 0..<unlabelled.count { laplacian[r, c] = -laplacian[r, c] }
      laplacian[r, r] += degrees[i] + weights[i, i]
    }
    try LinearAlgebra.invertPositiveDefinite(&laplacian, what: "the graph Laplacian D_UU - W_UU")
    let crossWeights = weights.submatrix(rows: unlabelled, columns: labelled)
    var pull = [Double](repeating: 0, count: unlabelled.count)
    LinearAlgebra.multiply(crossWeights, vector: labels, into: &pull)
    var field = [Double](repeating: 0, count: unlabelled.count)
    LinearAlgebra.multiply(laplacian, vector: pull, into: &field)
    self.init(inverse: laplacian, values: field)
  }

  // MARK: - Labelling

  /// The field after labelling node `k` with `label`, by the rank-one update (the inverse is
  /// not changed): `f + (label - f_k) G_k / G_kk`, and exactly `label` at `k`.
  public func labelling(_ k: Int, as label: Double) -> [Double] {
    let g = inverse[k, k]
    let step = (label - values[k]) / g
    var result = values
    inverse.values.withUnsafeBufferPointer { a in
      let row = a.baseAddress! + k * count
      for i in 0..<count where !isLabelled[i] { result[i] += step * row[i] }
    }
    result[k] = label
    return result
  }

  /// Labels node `k` with `label` by the rank-one update of the field and the inverse (O(n^2)).
  public mutating func label(_ k: Int, as label: Double) {
    precondition(!isLabelled[k], "HarmonicField: node \(k) is already labelled")
    values = labelling(k, as: label)
    let n = count
    let g = inverse[k, k]
    let column = (0..<n).map { inverse[$0, k] }
    inverse.values.withUnsafeMutableBufferPointer { a in
      for i in 0..<n where column[i] != 0 {
        let scale = column[i] / g
        let row = a.baseAddress! + i * n
        for j in 0..<n { row[j] -= scale * column[j] }
      }
    }
    isLabelled[k] = true
  }

  /// Labels the nodes `positions` with `labels` at once: the same result as one rank-one update
  /// per node, as one block (Schur complement) update, `f <- f + G_:S G_SS^-1 (y_S - f_S)` and
  /// `G <- G - G_:S G_SS^-1 G_S:`, through LAPACK (`dposv`) and BLAS (`dgemm`).
  ///
  /// - Throws: ``HarmonicError/notPositiveDefinite(what:order:)`` when `G_SS` is not positive
  ///   definite in floating point.
  public mutating func label(_ positions: [Int], as labels: [Double]) throws(HarmonicError) {
    precondition(positions.count == labels.count, "HarmonicField: one label per node")
    precondition(Set(positions).count == positions.count, "HarmonicField: repeated node")
    guard !positions.isEmpty else { return }
    for k in positions { precondition(!isLabelled[k], "HarmonicField: node \(k) is labelled") }
    let all = Array(0..<count)
    let rows = inverse.submatrix(rows: positions, columns: all)  // G_S: = (G_:S)'
    let block = inverse.submatrix(rows: positions, columns: positions)
    var step = Matrix(
      rows: positions.count,
      columns: 1,
      values: zip(labels, positions).map { $0 - values[$1] }
    )
    try LinearAlgebra.solvePositiveDefinite(block, &step, what: "G_SS")
    var change = Matrix(rows: count, columns: 1)
    LinearAlgebra.multiply(rows, transposingA: true, step, into: &change)
    for i in 0..<count where !isLabelled[i] { values[i] += change.values[i] }
    var solved = rows
    try LinearAlgebra.solvePositiveDefinite(block, &solved, what: "G_SS")
    LinearAlgebra.multiply(rows, transposingA: true, solved, alpha: -1, beta: 1, into: &inverse)
    for (k, label) in zip(positions, labels) {
      values[k] = label
      isLabelled[k] = true
    }
  }

  // MARK: - Risk

  /// The estimated risk of a field, `sum_i min(f_i, 1 - f_i)` over the unlabelled nodes (the
  /// expected number of errors when each `f_i` is read as `P(y_i = 1)` and thresholded).
  public func estimatedRisk(_ field: [Double]) -> Double {
    var risk = 0.0
    for i in 0..<count where !isLabelled[i] { risk += min(field[i], 1 - field[i]) }
    return risk
  }

  /// The expected estimated risk after querying node `k`: `(1 - f_k) R(f^{+(k,0)}) +
  /// f_k R(f^{+(k,1)})`, each `R` summed over the nodes still unlabelled after `k`, each
  /// `f^{+(k,y)}` from the rank-one update (one pass over `G`'s k-th row). `f_k` is clipped to
  /// [0, 1] as a probability.
  public func expectedRisk(querying k: Int) -> Double {
    let g = inverse[k, k]
    let fk = values[k]
    let p = min(max(fk, 0), 1)
    let step0 = (0 - fk) / g
    let step1 = (1 - fk) / g
    var risk0 = 0.0
    var risk1 = 0.0
    values.withUnsafeBufferPointer { f in
      isLabelled.withUnsafeBufferPointer { labelled in
        inverse.values.withUnsafeBufferPointer { a in
          let row = a.baseAddress! + k * count
          for i in 0..<count where !labelled[i] && i != k {
            let zero = f[i] + step0 * row[i]
            let one = f[i] + step1 * row[i]
            risk0 += min(zero, 1 - zero)
            risk1 += min(one, 1 - one)
          }
        }
      }
    }
    return (1 - p) * risk0 + p * risk1
  }

  // MARK: - Prediction

  /// Class 1 where `f_i > 0.5`, else class 0 (Zhu et al.'s thresholding).
  public static func thresholded(_ field: [Double]) -> [Int] { field.map { $0 > 0.5 ? 1 : 0 } }

  /// Class mass normalisation (Zhu et al. 2003, §4): class 1 where
  /// `q f_i / sum_j f_j > (1 - q) (1 - f_i) / sum_j (1 - f_j)`, the sums over `field`, with `q`
  /// the proportion of class 1 the labels give (`classOneFraction`).
  public static func classMassNormalised(_ field: [Double], classOneFraction q: Double) -> [Int] {
    let one = field.reduce(0, +)
    let zero = field.reduce(0) { $0 + (1 - $1) }
    return field.map { q * $0 / one > (1 - q) * (1 - $0) / zero ? 1 : 0 }
  }

  /// The LAPACK library's version, for provenance.
  public static var lapackVersion: String { LinearAlgebra.lapackVersion }
}

/// RBF graph weights on raw feature vectors.
public enum RBFGraph {
  /// `w_ij = exp(-||x_i - x_j||^2 / sigma^2)` for the `n` rows of `points` (`[n, d]`,
  /// row-major), zero on the diagonal (squared distances from BLAS `dgemm`: `|x_i|^2 + |x_j|^2
  /// - 2 x_i . x_j`, clipped at 0).
  ///
  /// - Precondition: `sigma > 0`, `points.count == n * dimension`.
  public static func weights(points: [Float], dimension d: Int, sigma: Double) -> Matrix {
    precondition(sigma > 0 && d > 0 && points.count % d == 0, "RBFGraph: bad shape or sigma")
    let n = points.count / d
    let x = Matrix(rows: n, columns: d, values: points.map(Double.init))
    var gram = Matrix(rows: n, columns: n)
    LinearAlgebra.multiply(x, x, transposingB: true, into: &gram)
    let norms = (0..<n).map { gram[$0, $0] }
    let scale = 1 / (sigma * sigma)
    gram.values.withUnsafeMutableBufferPointer { w in
      for i in 0..<n {
        for j in 0..<n {
          let squared = max(norms[i] + norms[j] - 2 * w[i * n + j], 0)
          w[i * n + j] = i == j ? 0 : exp(-squared * scale)
        }
      }
    }
    return gram
  }
}

/// An error of the graph computations.
public enum HarmonicError: Error, Equatable, CustomStringConvertible {
  /// A Cholesky factorisation failed: the matrix is not positive definite in floating point
  /// (`order` is LAPACK's `info`, the leading minor that failed).
  case notPositiveDefinite(what: String, order: Int)

  /// The problem and its fix.
  public var description: String {
    switch self {
    case .notPositiveDefinite(let what, let order):
      "\(what) is not positive definite in floating point (LAPACK info \(order)): some "
        + "unlabelled nodes are, to double precision, not connected to any labelled node; "
        + "raise sigma (the RBF width) so that their weights do not vanish"
    }
  }
}
