/// Where the probability samples that an acquisition function scores come from: one concept
/// with one kind per way of approximating the predictive distribution `p(y | x, D)`.
///
/// Every kind yields samples of shape `[S, N, C]` (``MCProbabilities``) for scoring, and their
/// mean `[N, C]` is its predictive distribution for evaluation:
/// - ``deterministic``: one pass with dropout off, `S = 1` (the paper's deterministic CNN);
/// - ``mcDropout``: `T` stochastic passes of one network with dropout on, `S = T` (the paper's
///   Bayesian CNN; Gal & Ghahramani 2016);
/// - ``deepEnsemble``: `M` networks trained independently on the same labelled set, each one
///   pass with dropout off, `S = M`; or `T` MC-dropout passes of each, `S = M x T`
///   (Lakshminarayanan et al. 2017; Beluch et al. 2018, "The Power of Ensembles for Active
///   Learning in Image Classification");
/// - ``harmonic``: no network: the harmonic function of a Gaussian random field on an RBF graph
///   over the labelled, pool and test images (Zhu, Ghahramani & Lafferty 2003), whose field
///   `f_i = P(y_i = 1)` is its prediction; binary tasks only, and scored by
///   ``AcquisitionFunction/minimumBayesRisk`` only (``supports(_:)``).
///
/// The raw values are the spellings of the literate documents, cell ids (`bald.bayesian.r0`)
/// and cache keys: `bayesian` is the paper's name for the MC-dropout CNN.
public enum UncertaintySource: String, CaseIterable, Sendable, Codable, Hashable {
  /// `T` MC-dropout passes with dropout on: `S = T`.
  case mcDropout = "bayesian"
  /// One deterministic pass with dropout off: `S = 1`.
  case deterministic
  /// `M` independently trained members: `S = M` (or `M x T` with MC dropout in each member).
  case deepEnsemble = "ensemble"
  /// The harmonic function on an RBF graph (the paper's Figure 3 baseline): `S = 1`.
  case harmonic

  /// The name used in figures and tables.
  public var displayName: String {
    switch self {
    case .mcDropout: "Bayesian CNN"
    case .deterministic: "Deterministic CNN"
    case .deepEnsemble: "Deep ensemble"
    case .harmonic: "Harmonic function"
    }
  }

  /// The number of probability samples `S` it yields, given `T` MC-dropout passes, `M`
  /// ensemble members and whether the members predict with MC dropout.
  public func sampleCount(mcSamples: Int, ensembleSize: Int, membersUseMCDropout: Bool) -> Int {
    switch self {
    case .mcDropout: mcSamples
    case .deterministic, .harmonic: 1
    case .deepEnsemble: ensembleSize * (membersUseMCDropout ? mcSamples : 1)
    }
  }

  /// How many networks each round trains: `M` for an ensemble, else one.
  public func networkCount(ensembleSize: Int) -> Int {
    switch self {
    case .deepEnsemble: ensembleSize
    case .harmonic: 0
    case .mcDropout, .deterministic: 1
    }
  }

  /// Whether `acquisition` can score this source's predictions: Minimum Bayes Risk needs the
  /// harmonic field, and the harmonic field has no probability samples for the others.
  public func supports(_ acquisition: AcquisitionFunction) -> Bool {
    (self == .harmonic) == (acquisition == .minimumBayesRisk)
  }
}
