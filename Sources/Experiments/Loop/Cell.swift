import Acquisition

/// One independent active-learning run: acquisition function x model kind x repetition.
public struct Cell: Hashable, Sendable, Comparable, CustomStringConvertible {
  /// The acquisition function.
  public var acquisition: AcquisitionFunction
  /// How the model predicts when scoring.
  public var model: UncertaintySource
  /// The repetition index, from 0.
  public var repetition: Int
  /// The dataset it learns from (MNIST unless the document or `--set dataset` says otherwise).
  public var dataset: DatasetVariant

  /// Creates a cell.
  public init(
    acquisition: AcquisitionFunction,
    model: UncertaintySource,
    repetition: Int,
    dataset: DatasetVariant = .mnist
  ) {
    self.acquisition = acquisition
    self.model = model
    self.repetition = repetition
    self.dataset = dataset
  }

  /// The configuration without the repetition, e.g. `bald.bayesian`, with the dataset's name
  /// when it is not MNIST (`batchbald.bayesian.repeated-3x0.1`).
  public var configuration: String {
    "\(acquisition.rawValue).\(model.rawValue)" + (dataset == .mnist ? "" : ".\(dataset.slug)")
  }
  /// The cell id used in stage ids, status and `--cell`, e.g. `bald.bayesian.r0`.
  public var description: String { "\(configuration).r\(repetition)" }

  /// Whether the cell's rounds train a network (all but the harmonic-function baseline).
  public var trainsNetwork: Bool { model != .harmonic }

  /// Orders cells as they are listed: by repetition, then configuration.
  public static func < (lhs: Cell, rhs: Cell) -> Bool {
    (lhs.repetition, lhs.configuration) < (rhs.repetition, rhs.configuration)
  }
}
