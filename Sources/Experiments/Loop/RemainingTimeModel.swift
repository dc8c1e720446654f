import PipelineCore

/// Predicts how long the stages of a plan that have not run yet will take, from the durations
/// of stages that did (in this run, or earlier ones recorded in the cache's manifests).
///
/// Stage costs differ by orders of magnitude (an acquisition takes milliseconds, a training on
/// 1000 labels 15 s, a test evaluation with T = 200 about 17 s) and training grows with the
/// labelled set, so an average over finished stages misleads early in a run. The model:
/// - `train`: linear in the labelled-set size N. With samples spread over N (the largest at
///   least 3x the smallest, 3 distinct sizes) a least-squares line `a + b N`; before that,
///   proportional to `N + 20` (a measured paper-profile training costs about as much per image
///   at 20 labels as the fixed per-step overhead of one 20-image batch: 0.53 s at 20 labels,
///   7.2 s at 520, 14.5 s at 1020 on a 2-core AVX-512 machine, 50 epochs).
/// - `evaluate`, `score`: the mean of their samples, separately for Bayesian and deterministic
///   cells (deterministic scoring is one pass), falling back to the other kind's mean.
/// - everything else (`acquire`, splits, data): the mean of its kind's samples, else 0.
public struct RemainingTimeModel: Sendable {
  private struct StageFacts: Sendable {
    var kind: String
    var deterministic: Bool
    var labelled: Int
  }

  private let facts: [StageID: StageFacts]
  private var trainSamples: [(labelled: Double, seconds: Double)] = []
  private var samples: [String: [Double]] = [:]
  private var observed: Set<StageID> = []

  /// A model for the stages of `plan` (no samples yet).
  public init(plan: ExperimentPlan) {
    let p = plan.profile.parameters
    var facts: [StageID: StageFacts] = [:]
    for node in plan.graph.nodes {
      let kind = node.id.rawValue.split(separator: "/").last.map(String.init) ?? ""
      facts[node.id] = StageFacts(
        kind: kind,
        deterministic: node.group?.contains(".deterministic.") ?? false,
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
      } else if let mean = mean(of: fact) {
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
    fact.kind + (fact.deterministic ? ".deterministic" : ".bayesian")
  }

  private func mean(of fact: StageFacts) -> Double? {
    let values =
      samples[Self.key(fact)]
      ?? samples.filter { $0.key.hasPrefix(fact.kind + ".") }.values.flatMap { $0 }
    return values.isEmpty ? nil : values.reduce(0, +) / Double(values.count)
  }

  /// The training cost as a function of N, or nil without training samples.
  private func trainCost() -> ((Double) -> Double)? {
    guard !trainSamples.isEmpty else { return nil }
    let sizes = trainSamples.map(\.labelled)
    let distinct = Set(sizes).count
    if distinct >= 3, let low = sizes.min(), let high = sizes.max(), high >= 3 * low {
      let n = Double(trainSamples.count)
      let meanX = sizes.reduce(0, +) / n
      let meanY = trainSamples.map(\.seconds).reduce(0, +) / n
      let sxx = trainSamples.map { ($0.labelled - meanX) * ($0.labelled - meanX) }.reduce(0, +)
      let sxy = trainSamples.map { ($0.labelled - meanX) * ($0.seconds - meanY) }.reduce(0, +)
      let slope = max(sxy / sxx, 0)
      let intercept = max(meanY - slope * meanX, 0)
      return { intercept + slope * $0 }
    }
    let overhead = 20.0
    let perImage =
      trainSamples.map { $0.seconds / ($0.labelled + overhead) }.reduce(0, +)
      / Double(trainSamples.count)
    return { perImage * ($0 + overhead) }
  }
}
