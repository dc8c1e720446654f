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
  /// The acquisition functions to run, in the order written (no duplicates).
  public var acquisitions: [AcquisitionName]
  /// The model variants to run, in the order written (no duplicates).
  public var models: [ModelVariant]
  /// Repetitions per cell, or nil for the profile's default.
  public var repetitions: Int?
  /// Validation-set size, or nil for the profile's default.
  public var validationSize: Int?
  /// Profile parameter overrides from `set:`, in the order written (names unique). The
  /// Experiments module checks the names against the profile.
  public var overrides: [ParameterOverride]
  /// The 1-based line of the opening fence.
  public var line: Int

  /// Creates an experiment declaration.
  public init(
    acquisitions: [AcquisitionName],
    models: [ModelVariant],
    repetitions: Int? = nil,
    validationSize: Int? = nil,
    overrides: [ParameterOverride] = [],
    line: Int
  ) {
    self.acquisitions = acquisitions
    self.models = models
    self.repetitions = repetitions
    self.validationSize = validationSize
    self.overrides = overrides
    self.line = line
  }
}

/// An acquisition function as named in documents; the raw values are the spellings accepted
/// after `acquisitions:`.
public enum AcquisitionName: String, Sendable, CaseIterable, Hashable {
  /// Bayesian Active Learning by Disagreement (mutual information).
  case bald
  /// Variation Ratios over the modal MC prediction (the authors' code).
  case varRatios = "var-ratios"
  /// `1 - max` mean predicted probability (the paper's formula).
  case varRatiosMean = "var-ratios-mean"
  /// Entropy of the mean prediction.
  case maxEntropy = "max-entropy"
  /// Mean over classes of the standard deviation over MC passes.
  case meanSTD = "mean-std"
  /// Uniformly random acquisition (the baseline).
  case random
}

/// Which network a cell trains: the paper's Bayesian CNN (MC dropout) or its deterministic twin.
public enum ModelVariant: String, Sendable, CaseIterable, Hashable {
  /// MC dropout at acquisition time.
  case bayesian
  /// Dropout off at acquisition time.
  case deterministic
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
