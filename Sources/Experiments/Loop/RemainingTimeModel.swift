import Acquisition
import PipelineCore

/// Predicts how long the stages of a plan that have not run yet will take, from the durations
/// of stages that did (in this run, or earlier ones recorded in the cache's manifests).
///
/// Stage costs differ by orders of magnitude (an acquisition takes milliseconds, a training on
/// 1000 labels 15 s, a test evaluation with T = 200 about 17 s) and training grows with the
/// labelled set, so an average over finished stages misleads early in a run.
///
/// Durations are wall-clock times, and a machine shared with other work stretches some stages
/// by 10-100x (measured: one T = 200 evaluation took 1480 s instead of 17 s while other jobs
/// held both cores). Such stages say nothing about the rest of the run, so every estimate is
/// robust to them: medians, and a line fitted without its outliers. The model:
/// - `train` (every ensemble member's too): linear in the labelled-set size N. With samples spread over N (the largest at
///   least 3x the smallest, 3 distinct sizes) a least-squares line `a + b N` through the
///   samples whose cost per image `t / (N + 20)` lies within 3 robust standard deviations
///   (1.4826 MAD, and at least 25%) of the median cost per image; before that,
///   proportional to `N + 20` with the median factor (a measured paper-profile training costs
///   about as much per image at 20 labels as the fixed per-step overhead of one 20-image
///   batch: 0.53 s at 20 labels, 7.2 s at 520, 14.5 s at 1020 on a 2-core AVX-512 machine,
///   50 epochs).
/// - `evaluate`, `score`: the median of their samples, separately for each uncertainty source
///   (a deterministic cell scores and is evaluated with one pass, MC dropout with T, an
///   ensemble with M or M x T), falling back to the other sources' samples of the kind.
/// - `calibrate`: the median of the calibrations of its source, else of that source's
///   evaluations (the same predictions); a deterministic cell's calibration counts as MC
///   dropout's, since it runs the T passes its evaluation does not.
/// - everything else (`acquire`, splits, data): the median of its kind's samples, else 0.
public struct RemainingTimeModel: Sendable {
  private struct StageFacts: Sendable {
    var kind: String
    /// The cell's uncertainty source (its raw value), or "" outside cells.
    var source: String
    var labelled: Int
  }

  private let facts: [StageID: StageFacts]
  private var trainSamples: [(labelled: Double, seconds: Double)] = []
  private var samples: [String: [Double]] = [:]
  private var observed: Set<StageID> = []

  /// A model for the stages of `plan` (no samples yet).
  public init(plan: ExperimentPlan) {
    let p = plan.profile.parameters
    // Calibrations are groups of their own, with the test passes of MC dropout for a
    // deterministic cell.
    let sources = Dictionary(
      plan.cells.flatMap { cell in
        [
          (cell.description, cell.model.rawValue),
          (
            ExperimentPlan.calibrationGroup(cell),
            (cell.model == .deterministic ? UncertaintySource.mcDropout : cell.model).rawValue
          ),
        ]
      },
      uniquingKeysWith: { first, _ in first }
    )
    var facts: [StageID: StageFacts] = [:]
    for node in plan.graph.nodes {
      var kind = node.id.rawValue.split(separator: "/").last.map(String.init) ?? ""
      if kind.hasPrefix("train-member-") { kind = "train" }  // ensemble members train alike
      facts[node.id] = StageFacts(
        kind: kind,
        source: node.group.flatMap { sources[$0] } ?? "",
        labelled: p.initialLabelled + (node.round ?? 0) * p.acquireCount
      )
    }
    self.facts = facts
  }

  /// Records that stage `id` took `seconds` (when it ran, now or in an earlier run).
  public mutating func observe(_ id: StageID, seconds: Double) {
    guard let fact = facts[id], observed.insert(id).inserted, seconds.isFinite else { return }
    if fact.kind == "train" {
      trainSamples.append((Double(fact.labelled), seconds))
    } else {
      samples[Self.key(fact), default: []].append(seconds)
    }
  }

  /// The predicted seconds of every stage of the plan not in `done`; nil while a costly kind
  /// that remains (train, evaluate, score) has no sample yet, since any number would be a guess.
  public func remainingSeconds(excluding done: Set<StageID>) -> Double? {
    let train = trainCost()
    var total = 0.0
    for (id, fact) in facts where !done.contains(id) {
      if fact.kind == "train" {
        guard let train else { return nil }
        total += train(Double(fact.labelled))
      } else if let mean = typical(of: fact) {
        total += mean
      } else if Self.costlyKinds.contains(fact.kind) {
        return nil
      }
    }
    return total
  }

  /// The kinds whose cost must be known before an estimate means anything.
  private static let costlyKinds: Set<String> = ["train", "evaluate", "score"]

  private static func key(_ fact: StageFacts) -> String {
    fact.kind + "." + fact.source
  }

  private func typical(of fact: StageFacts) -> Double? {
    // A calibration makes its source's evaluation predictions: until one is measured, the
    // evaluations say what it costs.
    let kind = fact.kind == "calibrate" ? "evaluate" : fact.kind
    let values =
      samples[Self.key(fact)] ?? samples[kind + "." + fact.source]
      ?? samples.filter { $0.key.hasPrefix(kind + ".") }.values.flatMap { $0 }
    return Self.median(values)
  }

  /// The median, or nil for no values.
  static func median(_ values: [Double]) -> Double? {
    guard !values.isEmpty else { return nil }
    let sorted = values.sorted()
    let middle = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
  }

  /// The least-squares line through `points`, or nil when their x values do not vary.
  static func leastSquares(
    _ points: [(labelled: Double, seconds: Double)]
  ) -> (intercept: Double, slope: Double)? {
    let n = Double(points.count)
    guard n >= 2 else { return nil }
    let meanX = points.map(\.labelled).reduce(0, +) / n
    let meanY = points.map(\.seconds).reduce(0, +) / n
    let sxx = points.map { ($0.labelled - meanX) * ($0.labelled - meanX) }.reduce(0, +)
    guard sxx > 0 else { return nil }
    let sxy = points.map { ($0.labelled - meanX) * ($0.seconds - meanY) }.reduce(0, +)
    return (meanY - sxy / sxx * meanX, sxy / sxx)
  }

  /// The training cost as a function of N, or nil without training samples.
  private func trainCost() -> ((Double) -> Double)? {
    guard !trainSamples.isEmpty else { return nil }
    let overhead = 20.0
    let perImage = trainSamples.map { $0.seconds / ($0.labelled + overhead) }
    let typical = Self.median(perImage) ?? 0
    let spread = Self.median(perImage.map { abs($0 - typical) }) ?? 0
    let tolerance = max(3 * 1.4826 * spread, 0.25 * typical)
    let inliers = zip(trainSamples, perImage).filter { abs($0.1 - typical) <= tolerance }.map(\.0)
    let sizes = inliers.map(\.labelled)
    if Set(sizes).count >= 3, let low = sizes.min(), let high = sizes.max(), high >= 3 * low,
      let line = Self.leastSquares(inliers)
    {
      let slope = max(line.slope, 0)
      let intercept = max(line.intercept, 0)
      return { intercept + slope * $0 }
    }
    return { typical * ($0 + overhead) }
  }
}
