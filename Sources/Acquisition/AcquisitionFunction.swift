/// An acquisition function: how the active-learning loop ranks unlabelled pool points.
///
/// Every function is a pure function of the MC-dropout probabilities ``MCProbabilities``
/// (T passes x N points x C classes). Higher scores are acquired first. Logarithms are natural
/// (rankings do not depend on the base) and `0 log 0 = 0`, so no score is ever NaN.
public enum AcquisitionFunction: String, CaseIterable, Sendable, Codable, Hashable {
  /// BALD, the mutual information between the prediction and the weights:
  /// `H[mean_t p_t] - mean_t H[p_t]`.
  case bald
  /// Variation Ratios as in Freeman (1965) and the authors' code: `1 - f_mode / T`, where
  /// `f_mode` is how many of the T passes predicted the modal class.
  case varRatios = "var-ratios"
  /// Variation Ratios as the paper's formula `1 - max_c mean_t p_c` (a least-confidence score).
  case varRatiosMean = "var-ratios-mean"
  /// Max Entropy: the entropy of the mean prediction, `H[mean_t p_t]`.
  case maxEntropy = "max-entropy"
  /// Mean STD: the mean over classes of the (population) standard deviation over passes,
  /// `(1/C) sum_c sqrt(E_t[p_c^2] - E_t[p_c]^2)`; the correct formula, not the authors' buggy one.
  case meanSTD = "mean-std"
  /// Uniformly random acquisition: every point scores 0 and the seeded tie-break decides.
  case random
  /// Minimum Bayes Risk (Zhu, Lafferty & Ghahramani 2003): the pool point whose label is
  /// expected to lower the harmonic function's estimated risk most. It scores from a graph's
  /// harmonic field, not from probability samples, and pairs only with the `harmonic` source.
  case minimumBayesRisk = "mbr"
  /// BatchBALD (Kirsch et al. 2019): the batch is chosen jointly, greedily maximising the
  /// mutual information between the batch's joint labels and the weights (``BatchBALD``), from
  /// consistent MC dropout. Its per-point ``scores(_:)`` are the BALD scores (the first
  /// step's gains); the batch itself comes from ``BatchBALD/select(_:count:configurationBudget:using:)``.
  case batchBALD = "batchbald"

  /// The name used in the paper's figures and tables.
  public var displayName: String {
    switch self {
    case .bald: "BALD"
    case .varRatios: "Var Ratios"
    case .varRatiosMean: "Var Ratios (mean)"
    case .maxEntropy: "Max Entropy"
    case .meanSTD: "Mean STD"
    case .random: "Random"
    case .minimumBayesRisk: "MBR"
    case .batchBALD: "BatchBALD"
    }
  }

  /// Scores every point of `probabilities`; higher means more informative.
  ///
  /// - Precondition: ``scoresProbabilitySamples`` (not Minimum Bayes Risk).
  public func scores(_ probabilities: MCProbabilities) -> [Double] {
    switch self {
    case .bald, .batchBALD: Scores.bald(probabilities)
    case .varRatios: Scores.variationRatios(probabilities)
    case .varRatiosMean: Scores.variationRatiosOfMean(probabilities)
    case .maxEntropy: Scores.maxEntropy(probabilities)
    case .meanSTD: Scores.meanStandardDeviation(probabilities)
    case .random: [Double](repeating: 0, count: probabilities.points)
    case .minimumBayesRisk:
      preconditionFailure("MBR scores a harmonic field, not samples (scoresProbabilitySamples)")
    }
  }

  /// Whether the function needs the probabilities at all (Random does not, so the loop can
  /// skip the forward passes).
  public var needsPredictions: Bool { self != .random }

  /// Whether ``scores(_:)`` applies: every function but Minimum Bayes Risk, which scores a
  /// graph's harmonic field (the `mbr-score` stage) rather than probability samples.
  public var scoresProbabilitySamples: Bool { self != .minimumBayesRisk }
  /// Whether the function chooses a whole batch jointly (and so needs the same weight samples
  /// for every point: consistent MC dropout) rather than ranking points one by one.
  public var choosesBatchJointly: Bool { self == .batchBALD }
}

/// How Variation Ratios scores the single pass of a deterministic model (T = 1).
///
/// The paper defines Variation Ratios as `1 - max_y p(y|x)`; for one softmax vector that is the
/// least-confidence score, a meaningful ranking. The mode-count form `1 - f_mode / T` of the
/// authors' code is 0 for every point when T = 1, so selection degenerates to random.
public enum SinglePassVariationRatios: String, CaseIterable, Sendable, Codable, Hashable {
  /// `1 - max_c p_c` of the one softmax vector (the paper's formula).
  case leastConfidence = "least-confidence"
  /// `1 - f_mode / 1 = 0` for every point: random selection (the authors' deterministic script).
  case modeCount = "mode-count"
}

/// Softmax probabilities of T stochastic forward passes over N points and C classes, stored
/// contiguously in `[T, N, C]` order (pass-major), as the MC-dropout predictor produces them.
public struct MCProbabilities: Sendable, Equatable {
  /// Number of stochastic passes T (1 for a deterministic model).
  public let passes: Int
  /// Number of scored points N.
  public let points: Int
  /// Number of classes C.
  public let classes: Int
  /// The probabilities, `values[(t * points + n) * classes + c]`.
  public let values: [Float]

  /// Wraps `values` laid out as `[passes, points, classes]`.
  /// - Precondition: `values.count == passes * points * classes` and all dimensions positive.
  public init(passes: Int, points: Int, classes: Int, values: [Float]) {
    precondition(passes > 0 && points >= 0 && classes > 0, "invalid MC probability shape")
    precondition(
      values.count == passes * points * classes,
      "expected \(passes)x\(points)x\(classes) = \(passes * points * classes) values, got \(values.count)"
    )
    self.passes = passes
    self.points = points
    self.classes = classes
    self.values = values
  }

  /// The probability of class `c` for point `n` on pass `t`.
  @inlinable
  public subscript(pass t: Int, point n: Int, class c: Int) -> Float {
    values[(t * points + n) * classes + c]
  }
}
