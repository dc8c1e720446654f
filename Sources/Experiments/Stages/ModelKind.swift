import Notebook

/// How a trained network predicts when scoring the pool.
public enum ModelKind: String, CaseIterable, Sendable, Codable, Hashable {
  /// MC dropout: dropout stays on, T stochastic passes (the Bayesian CNN).
  case bayesian
  /// One deterministic pass with dropout off (T = 1): the paper's deterministic CNN.
  case deterministic

  /// The name used in figures.
  public var displayName: String {
    switch self {
    case .bayesian: "Bayesian CNN"
    case .deterministic: "Deterministic CNN"
    }
  }

  /// The same model as the literate documents name it.
  public var variant: ModelVariant { ModelVariant(rawValue: rawValue)! }
}
