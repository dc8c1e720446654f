/// Where the probability samples that an acquisition function scores come from: one concept
/// with one kind per way of approximating the predictive distribution `p(y | x, D)`.
///
/// Every kind yields samples of shape `[S, N, C]` (``MCProbabilities``) for scoring, and their
/// mean `[N, C]` is its predictive distribution for evaluation:
/// - ``deterministic``: one pass with dropout off, `S = 1` (the paper's deterministic CNN);
/// - ``mcDropout``: `T` stochastic passes of one network with dropout on, `S = T` (the paper's
///   Bayesian CNN; Gal & Ghahramani 2016).
///
/// The raw values are the spellings of the literate documents, cell ids (`bald.bayesian.r0`)
/// and cache keys: `bayesian` is the paper's name for the MC-dropout CNN.
public enum UncertaintySource: String, CaseIterable, Sendable, Codable, Hashable {
  /// `T` MC-dropout passes with dropout on: `S = T`.
  case mcDropout = "bayesian"
  /// One deterministic pass with dropout off: `S = 1`.
  case deterministic

  /// The name used in figures and tables.
  public var displayName: String {
    switch self {
    case .mcDropout: "Bayesian CNN"
    case .deterministic: "Deterministic CNN"
    }
  }

  /// The number of probability samples `S` it yields, given `T` MC-dropout passes.
  public func sampleCount(mcSamples: Int) -> Int {
    switch self {
    case .mcDropout: mcSamples
    case .deterministic: 1
    }
  }
}
