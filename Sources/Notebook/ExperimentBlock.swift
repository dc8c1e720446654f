import Acquisition

/// The ```` ```dbal-experiment ```` block: the grid of cells (acquisition function x model) the
/// document's figures and tables are computed from.
///
/// ```
/// acquisitions: bald, var-ratios, max-entropy
/// models: bayesian, deterministic
/// repetitions: 3
/// validation: 100
/// set: epochs=50, mc-samples=20
/// ```
public struct ExperimentBlock: Sendable, Equatable {
  /// The acquisition functions to run, in the order written (no duplicates); the document
  /// spells them as their raw values (`bald`, `var-ratios`, ...).
  public var acquisitions: [AcquisitionFunction]
  /// Where each cell's uncertainty comes from, in the order written (no duplicates); the
  /// document's `models:` key spells them as their raw values (`bayesian`, `deterministic`).
  public var models: [UncertaintySource]
  /// Repetitions per cell, or nil for the profile's default.
  public var repetitions: Int?
  /// Validation-set size, or nil for the profile's default.
  public var validationSize: Int?
  /// The datasets of the cells, as written (`datasets: mnist, repeated:3x0.1`): every cell runs
  /// on each; the Experiments module parses them (`DatasetVariant`). Empty: the profile's
  /// `dataset` parameter.
  public var datasets: [String]
  /// Profile parameter overrides from `set:`, in the order written (names unique). The
  /// Experiments module checks the names against the profile.
  public var overrides: [ParameterOverride]
  /// The 1-based line of the opening fence.
  public var line: Int

  /// Creates an experiment declaration.
  public init(
    acquisitions: [AcquisitionFunction],
    models: [UncertaintySource],
    repetitions: Int? = nil,
    validationSize: Int? = nil,
    overrides: [ParameterOverride] = [],
    datasets: [String] = [],
    line: Int
  ) {
    self.datasets = datasets
    self.acquisitions = acquisitions
    self.models = models
    self.repetitions = repetitions
    self.validationSize = validationSize
    self.overrides = overrides
    self.line = line
  }
}

/// One `name=value` override from an experiment's `set:` key.
public struct ParameterOverride: Sendable, Equatable, Hashable {
  /// The profile parameter's name.
  public var name: String
  /// The value as written; the Experiments module parses it against the parameter's type.
  public var value: String

  /// Creates an override of `name` to `value`.
  public init(name: String, value: String) {
    self.name = name
    self.value = value
  }
}
