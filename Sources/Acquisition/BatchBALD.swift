import Dispatch

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Greedy BatchBALD (Kirsch, van Amersfoort & Gal 2019, "BatchBALD: Efficient and Diverse Batch
/// Acquisition for Deep Bayesian Active Learning", Algorithm 1).
///
/// A batch `x_1..x_b` is chosen point by point: step `n + 1` adds the candidate `x` that
/// maximises the mutual information between the joint labels of the batch and the weights,
/// `I(y_1..y_n, y; ω) = H(y_1..y_n, y) - Σ_i E_ω H(y_i | ω)`. Given the batch, only
///
/// `gain(x) = H(y_1..y_n, y) - H(y_1..y_n) - E_ω H(y | ω) = E_{ŷ ~ p(y_1..y_n)} H(r(ŷ, ·)) - E_ω H(y | ω)`
///
/// varies with `x`, where `ŷ` is a label configuration of the batch and
/// `r(ŷ, c) = Σ_k w_k(ŷ) p_k(y = c)`, `w_k(ŷ) = P_k(ŷ) / Σ_k' P_k'(ŷ)`, is the predictive of
/// `x` conditioned on the batch's labels being `ŷ` (`P_k(ŷ) = Π_i p_k(y_i = ŷ_i)`, the joint
/// of pass `k`). This needs the same `K` weight samples for every point: the probabilities
/// must come from *consistent* MC dropout (one mask per pass, shared by all images).
///
/// - **Exact** while the batch's `C^n` configurations fit in `configurationBudget`: the
///   expectation is a sum over all of them, weighted by `p(ŷ) = mean_k P_k(ŷ)`.
/// - **Sampled** beyond: `M = configurationBudget` configurations drawn from `p(y_1..y_n)` (for
///   sample `m`, a pass `k_m` and then every `ŷ_i ~ p_{k_m}(y_i)`; passes are stratified, `k_m =
///   m mod K`, and the `M mod K` left over are drawn uniformly), each weighing `1/M`. This is an
///   unbiased estimate whose standard deviation is at most `log C / sqrt(M)` (0.07 nats for
///   `C = 10`, `M = 1000`), and the same samples serve every candidate, so differences between
///   candidates are estimated better still. A sample is extended by the next chosen point with
///   a label drawn from its own pass `k_m`, so it stays a draw from the joint.
///
/// The joint probabilities are kept as `log P_k(ŷ)` in Double (a product of ten Float32
/// softmax outputs underflows Float and can underflow Double), and `w_k(ŷ)` is formed with the
/// largest term factored out. The first step's gain is BALD, computed by the same formula as
/// ``AcquisitionFunction/bald``, and ties are broken as by ``Selection/topK(_:count:using:)``
/// (one 64-bit key per point from `generator`, drawn before anything else), so that a batch of
/// one is exactly BALD's top 1.
///
/// Cost per step: `R K N C` multiply-adds and `R N C` logarithms for `R` configurations (`R ≤`
/// the budget), on all cores; memory `O(R K + N)` besides the probabilities.
public enum BatchBALD {
  /// The chosen batch.
  public struct Batch: Sendable, Equatable {
    /// Positions of the chosen points in the scored probabilities, in the order chosen.
    public var picked: [Int]
    /// The gain of each chosen point when it was chosen (nats): the increase of the batch's
    /// mutual information `I(y_1..y_n; ω)`; the first is the point's BALD score.
    public var gains: [Double]
    /// How many steps computed the joint entropy exactly (the rest sampled it).
    public var exactSteps: Int
  }

  /// Why a batch cannot be chosen.
  public enum Failure: Error, Equatable, CustomStringConvertible {
    /// More points asked for than scored.
    case batchLargerThanSubset(batch: Int, points: Int)
    /// A configuration budget below 1.
    case emptyBudget(Int)
    /// Fewer than two passes: every point's BALD is 0 and there is no joint to estimate.
    case tooFewPasses(Int)

    /// What went wrong, with the parameter keys of the command line and the fix.
    public var description: String {
      switch self {
      case .batchLargerThanSubset(let batch, let points):
        "BatchBALD cannot choose acquire-count=\(batch) points from a scored subset of "
          + "\(points); the batch must be at most the subset (pool-subset): lower acquire-count "
          + "or raise pool-subset"
      case .emptyBudget(let budget):
        "batchbald-configurations=\(budget): the joint-entropy estimate needs at least 1 label "
          + "configuration (1000 is the default); set batchbald-configurations to 1 or more"
      case .tooFewPasses(let passes):
        "BatchBALD needs consistent MC dropout with at least 2 passes, got mc-samples="
          + "\(passes); set mc-samples to 2 or more (the paper: 100)"
      }
    }
  }

  /// The greedy batch of `count` points of `probabilities` (`[K, N, C]` from consistent MC
  /// dropout).
  ///
  /// - Parameters:
  ///   - configurationBudget: the most label configurations a step evaluates: exact while
  ///     `C^n` fits, otherwise that many samples.
  ///   - generator: the tie-break keys, then the sampled configurations.
  /// - Throws: ``Failure`` for a batch larger than `N`, a budget below 1 or fewer than 2
  ///   passes.
  public static func select(
    _ probabilities: MCProbabilities,
    count: Int,
    configurationBudget: Int,
    using generator: inout some RandomNumberGenerator
  ) throws(Failure) -> Batch {
    let (passes, points) = (probabilities.passes, probabilities.points)
    guard count <= points else { throw .batchLargerThanSubset(batch: count, points: points) }
    guard configurationBudget >= 1 else { throw .emptyBudget(configurationBudget) }
    guard passes >= 2 else { throw .tooFewPasses(passes) }
    let keys = (0..<points).map { _ in generator.next() }
    var batch = Batch(picked: [], gains: [], exactSteps: 0)
    guard count > 0 else { return batch }
    let conditional = Scores.meanConditionalEntropy(probabilities)
    var joint = JointConfigurations(passes: passes)
    var available = [Bool](repeating: true, count: points)
    for step in 0..<count {
      let gains: [Double]
      if step == 0 {
        gains = Scores.bald(probabilities)
        batch.exactSteps += 1
      } else {
        let expected = joint.expectedConditionalEntropy(probabilities)
        gains = (0..<points).map { expected[$0] - conditional[$0] }
        if joint.isExact { batch.exactSteps += 1 }
      }
      var best = -1
      for n in 0..<points where available[n] {
        guard best >= 0 else {
          best = n
          continue
        }
        let (a, b) = (gains[n], gains[best])
        if a.isNaN != b.isNaN {
          if b.isNaN { best = n }
        } else if a != b && !a.isNaN {
          if a > b { best = n }
        } else if keys[n] < keys[best] {
          best = n
        }
      }
      available[best] = false
      batch.picked.append(best)
      batch.gains.append(gains[best])
      if step + 1 < count {
        joint.add(
          point: best,
          of: probabilities,
          budget: configurationBudget,
          generator: &generator
        )
      }
    }
    return batch
  }

  /// The joint entropy `H(y_1..y_n)` of the labels of `points`, by enumerating all `C^n`
  /// configurations (for tests and small cases; exponential in `n`).
  public static func exactJointEntropy(_ probabilities: MCProbabilities, points: [Int]) -> Double {
    var joint = JointConfigurations(passes: probabilities.passes)
    var generator = SplitMixForExact()
    for point in points {
      joint.add(point: point, of: probabilities, budget: Int.max, generator: &generator)
    }
    return joint.entropy()
  }

  /// The joint entropy `H(y_1..y_n, y)` of `batch` plus each point, exact (`budget` at least
  /// `C^(n)`) or estimated from `budget` sampled configurations of the batch: `H(y_1..y_n) +
  /// E_ŷ H(r(ŷ, ·))`, where `H(y_1..y_n)` is exact when enumerated and estimated by
  /// `-mean_m log p(ŷ_m)` when sampled. For tests of the estimator.
  public static func jointEntropies(
    _ probabilities: MCProbabilities,
    batch: [Int],
    budget: Int,
    using generator: inout some RandomNumberGenerator
  ) -> [Double] {
    var joint = JointConfigurations(passes: probabilities.passes)
    for point in batch {
      joint.add(point: point, of: probabilities, budget: budget, generator: &generator)
    }
    let base = joint.entropy()
    return joint.expectedConditionalEntropy(probabilities).map { base + $0 }
  }
}

/// Never used for randomness: the exact enumeration draws nothing.
private struct SplitMixForExact: RandomNumberGenerator {
  mutating func next() -> UInt64 { preconditionFailure("exact enumeration draws no numbers") }
}

/// The label configurations of the batch chosen so far, each with `log P_k(ŷ)` for every pass
/// `k`: all `C^n` of them with their probability (exact), or `M` samples of equal weight.
struct JointConfigurations {
  let passes: Int
  /// `[R, K]` row-major: `log P_k(ŷ_r)`.
  private(set) var logJoint: [Double]
  /// The pass each sampled configuration was drawn from (empty while exact).
  private var samplePass: [Int] = []
  /// Whether the rows are all configurations (or samples).
  private(set) var isExact = true

  init(passes: Int) {
    self.passes = passes
    logJoint = [Double](repeating: 0, count: passes)  // the empty batch: one configuration
  }

  var rows: Int { logJoint.count / passes }

  /// Adds `point` to the batch: every configuration is extended by each of its C labels while
  /// `rows · C ≤ budget`; otherwise the configurations are (re)sampled to `budget` rows.
  mutating func add(
    point: Int,
    of p: MCProbabilities,
    budget: Int,
    generator: inout some RandomNumberGenerator
  ) {
    let (k, c) = (passes, p.classes)
    func logp(_ pass: Int, _ label: Int) -> Double {
      Double(p[pass: pass, point: point, class: label]).logOrMinusInfinity
    }
    let (extended, overflow) = rows.multipliedReportingOverflow(by: c)
    if isExact && !overflow && extended <= budget {
      var next = [Double](repeating: 0, count: rows * c * k)
      for r in 0..<rows {
        for label in 0..<c {
          let target = (r * c + label) * k
          for pass in 0..<k { next[target + pass] = logJoint[r * k + pass] + logp(pass, label) }
        }
      }
      logJoint = next
      return
    }
    if isExact {
      // Switch to sampling: draw `budget` configurations of the batch so far, then extend them.
      resample(count: budget, generator: &generator)
    }
    for m in 0..<rows {
      let label = Self.draw(p, pass: samplePass[m], point: point, generator: &generator)
      for pass in 0..<k { logJoint[m * k + pass] += logp(pass, label) }
    }
  }

  /// Replaces the exact configurations by `count` samples from their mixture `mean_k P_k`.
  private mutating func resample(count: Int, generator: inout some RandomNumberGenerator) {
    let k = passes
    let exact = logJoint
    let exactRows = rows
    var sampled = [Double](repeating: 0, count: count * k)
    samplePass = []
    for m in 0..<count {
      let pass =
        m < count - count % k ? m % k : Int(generator.next() % UInt64(k))
      // Draw a configuration from P_pass(ŷ) by inverse transform over the enumerated rows.
      var u = Double(generator.next() >> 11) * 0x1p-53
      var chosen = exactRows - 1
      for r in 0..<exactRows {
        let probability = exp(exact[r * k + pass])
        if u < probability {
          chosen = r
          break
        }
        u -= probability
      }
      for q in 0..<k { sampled[m * k + q] = exact[chosen * k + q] }
      samplePass.append(pass)
    }
    logJoint = sampled
    isExact = false
  }

  /// A label of `point` drawn from `p_pass(y)`.
  private static func draw(
    _ p: MCProbabilities,
    pass: Int,
    point: Int,
    generator: inout some RandomNumberGenerator
  ) -> Int {
    var total = 0.0
    for c in 0..<p.classes { total += Double(p[pass: pass, point: point, class: c]) }
    var u = Double(generator.next() >> 11) * 0x1p-53 * total
    for c in 0..<p.classes {
      u -= Double(p[pass: pass, point: point, class: c])
      if u < 0 { return c }
    }
    return p.classes - 1
  }

  /// The entropy of the batch's labels: exact, or `-mean_m log p(ŷ_m)` over the samples.
  func entropy() -> Double {
    var total = 0.0
    for r in 0..<rows {
      let (scale, sum) = normaliser(row: r)
      let logMass = scale + log(sum / Double(passes))
      total += isExact ? -(sum > 0 ? exp(logMass) * logMass : 0) : -logMass / Double(rows)
    }
    return total
  }

  /// `(max_k log P_k, Σ_k exp(log P_k - max))` of one row.
  private func normaliser(row r: Int) -> (Double, Double) {
    var top = -Double.infinity
    for pass in 0..<passes { top = max(top, logJoint[r * passes + pass]) }
    guard top > -.infinity else { return (0, 0) }
    var sum = 0.0
    for pass in 0..<passes { sum += exp(logJoint[r * passes + pass] - top) }
    return (top, sum)
  }

  /// Per point `x`, `E_ŷ H(r(ŷ, ·))`: the entropy of `x`'s predictive given the batch's
  /// labels, averaged over the configurations (weighted by `p(ŷ)` when exact, `1/M` sampled).
  func expectedConditionalEntropy(_ p: MCProbabilities) -> [Double] {
    let (k, n, c) = (passes, p.points, p.classes)
    let width = n * c
    // Per row: its weight and the normalised pass weights w_k(ŷ) in Float for the product.
    var rowMass = [Double](repeating: 0, count: rows)
    var weights = [Float](repeating: 0, count: rows * k)
    for r in 0..<rows {
      let (top, sum) = normaliser(row: r)
      guard sum > 0 else { continue }
      rowMass[r] = isExact ? exp(top) * sum / Double(k) : 1 / Double(rows)
      for pass in 0..<k {
        weights[r * k + pass] = Float(exp(logJoint[r * k + pass] - top) / sum)
      }
    }
    // Rows in fixed blocks (independent of the thread count), each block's sums kept apart and
    // added in block order, so the result does not depend on scheduling.
    let rowsPerBlock = 16
    let columnsPerTile = 1024 - 1024 % c
    let blocks = (rows + rowsPerBlock - 1) / rowsPerBlock
    var partial = [Double](repeating: 0, count: blocks * n)
    let (rows, rowMasses) = (rows, rowMass)
    p.values.withUnsafeBufferPointer { values in
      weights.withUnsafeBufferPointer { weights in
        partial.withUnsafeMutableBufferPointer { partial in
          let shared = SharedPointers(
            values: values.baseAddress!,
            weights: weights.baseAddress!,
            partial: partial.baseAddress!
          )
          DispatchQueue.concurrentPerform(iterations: blocks) { block in
            let (values, weights) = (shared.values, shared.weights)
            let first = block * rowsPerBlock
            let count = min(rowsPerBlock, rows - first)
            let output = shared.partial + block * n
            var mixture = [Float](repeating: 0, count: rowsPerBlock * columnsPerTile)
            mixture.withUnsafeMutableBufferPointer { mixture in
              let mixture = mixture.baseAddress!
              for start in stride(from: 0, to: width, by: columnsPerTile) {
                let span = min(columnsPerTile, width - start)
                mixture.update(repeating: 0, count: rowsPerBlock * columnsPerTile)
                for pass in 0..<k {
                  let source = values + pass * width + start
                  for row in 0..<count {
                    let w = weights[(first + row) * k + pass]
                    let target = mixture + row * columnsPerTile
                    for j in 0..<span { target[j] += w * source[j] }
                  }
                }
                for row in 0..<count where rowMasses[first + row] > 0 {
                  let mass = rowMasses[first + row]
                  let target = mixture + row * columnsPerTile
                  for pointStart in stride(from: 0, to: span, by: c) {
                    var h = 0.0
                    for j in 0..<c { h -= Scores.xlogx(Double(target[pointStart + j])) }
                    output[(start + pointStart) / c] += mass * h
                  }
                }
              }
            }
          }
        }
      }
    }
    var result = [Double](repeating: 0, count: n)
    for block in 0..<blocks {
      for x in 0..<n { result[x] += partial[block * n + x] }
    }
    return result
  }
}

/// The buffers of ``JointConfigurations/expectedConditionalEntropy(_:)``: read by every
/// block, and `partial` written in disjoint rows (one per block).
private struct SharedPointers: @unchecked Sendable {
  let values: UnsafePointer<Float>
  let weights: UnsafePointer<Float>
  let partial: UnsafeMutablePointer<Double>
}

extension Double {
  /// `log(self)`, with `log 0 = -inf` (a configuration impossible under a pass).
  fileprivate var logOrMinusInfinity: Double { self > 0 ? log(self) : -.infinity }
}
