#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Calibration of a classifier's predictive distribution on labelled test points: whether its
/// confidence means anything, not only whether its argmax is right.
///
/// Every metric is computed from the predictive mean `p(y | x)` over the samples of an
/// ``MCProbabilities`` (`[S, N, C]`): the mean of T MC-dropout passes, of M ensemble members,
/// or the single deterministic pass (S = 1). Sums are accumulated in Double.
///
/// - Negative log-likelihood (NLL): `-(1/N) sum_n log p(y_n | x_n)`, natural log. A true class
///   given probability 0 (a Float32 softmax can underflow) counts as `-log(1e-12)`, so one
///   such point cannot make the mean infinite; the clamp is ``probabilityFloor``.
/// - Brier score: `(1/N) sum_n sum_c (p_c(x_n) - 1[c = y_n])^2`, the multi-class form, in
///   [0, 2] (0 for a certain correct prediction, 2 for a certain wrong one).
/// - Expected calibration error (ECE, Guo et al. 2017): the confidence of a point is its
///   largest class probability, its prediction that class (ties to the lowest class, as the
///   accuracy); the points are grouped into **15 equal-width confidence bins**
///   `(0, 1/15], (1/15, 2/15], ..., (14/15, 1]` (a confidence of exactly 0 falls in the
///   first), and `ECE = sum_b (|B_b| / N) |accuracy(B_b) - mean confidence(B_b)|`.
public enum Calibration {
  /// The number of equal-width confidence bins of the expected calibration error.
  public static let binCount = 15
  /// The smallest probability the NLL takes the log of.
  public static let probabilityFloor = 1e-12

  /// The three metrics of one predictive distribution.
  public struct Metrics: Sendable, Equatable {
    /// Mean negative log-likelihood of the true class (nats).
    public var negativeLogLikelihood: Double
    /// Mean multi-class Brier score.
    public var brierScore: Double
    /// Expected calibration error with ``Calibration/binCount`` equal-width bins.
    public var expectedCalibrationError: Double

    /// Creates metrics from their values.
    public init(negativeLogLikelihood: Double, brierScore: Double, expectedCalibrationError: Double)
    {
      self.negativeLogLikelihood = negativeLogLikelihood
      self.brierScore = brierScore
      self.expectedCalibrationError = expectedCalibrationError
    }
  }

  /// The metrics of the predictive mean of `probabilities` against `labels` (one per point).
  public static func metrics(_ probabilities: MCProbabilities, labels: [Int]) -> Metrics {
    let mean = Scores.meanProbabilities(probabilities)
    let classes = probabilities.classes
    return Metrics(
      negativeLogLikelihood: negativeLogLikelihood(mean: mean, classes: classes, labels: labels),
      brierScore: brierScore(mean: mean, classes: classes, labels: labels),
      expectedCalibrationError: expectedCalibrationError(
        mean: mean,
        classes: classes,
        labels: labels
      )
    )
  }

  /// Mean NLL of `[N, C]` probabilities `mean` (row-major) against `labels`.
  public static func negativeLogLikelihood(mean: [Double], classes: Int, labels: [Int]) -> Double {
    check(mean, classes, labels)
    guard !labels.isEmpty else { return 0 }
    var total = 0.0
    for (n, label) in labels.enumerated() {
      total -= log(max(mean[n * classes + label], probabilityFloor))
    }
    return total / Double(labels.count)
  }

  /// Mean multi-class Brier score of `[N, C]` probabilities `mean` against `labels`.
  public static func brierScore(mean: [Double], classes: Int, labels: [Int]) -> Double {
    check(mean, classes, labels)
    guard !labels.isEmpty else { return 0 }
    var total = 0.0
    for (n, label) in labels.enumerated() {
      for c in 0..<classes {
        let d = mean[n * classes + c] - (c == label ? 1 : 0)
        total += d * d
      }
    }
    return total / Double(labels.count)
  }

  /// The bin of a confidence in [0, 1]: `(b/15, (b+1)/15]` is bin b; 0 goes to bin 0.
  public static func bin(ofConfidence confidence: Double, bins: Int = binCount) -> Int {
    min(bins - 1, max(0, Int((confidence * Double(bins)).rounded(.up)) - 1))
  }

  /// Expected calibration error of `[N, C]` probabilities `mean` against `labels`, with
  /// `bins` equal-width confidence bins (default 15).
  public static func expectedCalibrationError(
    mean: [Double],
    classes: Int,
    labels: [Int],
    bins: Int = binCount
  ) -> Double {
    check(mean, classes, labels)
    guard !labels.isEmpty else { return 0 }
    var count = [Int](repeating: 0, count: bins)
    var correct = [Int](repeating: 0, count: bins)
    var confidence = [Double](repeating: 0, count: bins)
    for (n, label) in labels.enumerated() {
      var best = 0
      for c in 1..<classes where mean[n * classes + c] > mean[n * classes + best] { best = c }
      let top = mean[n * classes + best]
      let b = bin(ofConfidence: top, bins: bins)
      count[b] += 1
      confidence[b] += top
      if best == label { correct[b] += 1 }
    }
    var ece = 0.0
    for b in 0..<bins where count[b] > 0 {
      ece += abs(Double(correct[b]) - confidence[b]) / Double(labels.count)
    }
    return ece
  }

  private static func check(_ mean: [Double], _ classes: Int, _ labels: [Int]) {
    precondition(classes > 0 && mean.count == labels.count * classes, "mean is not [N, C]")
    precondition(labels.allSatisfy { (0..<classes).contains($0) }, "label out of range")
  }
}
