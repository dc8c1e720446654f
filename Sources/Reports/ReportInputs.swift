/// Everything the renderer fills into a document: figure and table data by id, inline values,
/// provenance and how complete the experiments are.
public struct ReportInputs: Sendable, Equatable {
  /// Figure data keyed by `dbal-figure` id.
  public var figures: [String: FigureData]
  /// Table data keyed by `dbal-table` id.
  public var tables: [String: TableData]
  /// Values for `{{value NAME}}`, already formatted (for example `"97.12%"`).
  public var values: [String: String]
  /// The "Protocol" section: what was run next to the paper's text and the authors' code
  /// (nil: no section).
  public var protocolTable: TableData?
  /// How the results were produced.
  public var provenance: Provenance
  /// Whether every cell finished all its rounds.
  public var completeness: ReportCompleteness
  /// The calibration-over-rounds figure (``FigureQuantity/expectedCalibrationError``), drawn
  /// before the protocol section; nil (no section) while no round is calibrated.
  public var calibration: FigureData? = nil

  /// Creates the inputs of one report.
  public init(
    figures: [String: FigureData],
    tables: [String: TableData],
    values: [String: String],
    protocolTable: TableData? = nil,
    provenance: Provenance,
    completeness: ReportCompleteness = .complete,
    calibration: FigureData? = nil
  ) {
    self.figures = figures
    self.tables = tables
    self.values = values
    self.protocolTable = protocolTable
    self.provenance = provenance
    self.completeness = completeness
    self.calibration = calibration
  }
}

/// Whether a report shows finished experiments or a snapshot of running ones.
public enum ReportCompleteness: Sendable, Equatable {
  /// Every cell ran all its rounds.
  case complete
  /// Some cells are unfinished; the report is rendered from the rounds done so far and is
  /// marked as partial at the top with this progress per cell.
  case partial([CellProgress])
}

/// How far one experiment cell has got.
public struct CellProgress: Sendable, Equatable, Hashable {
  /// The cell (for example `bald.bayesian`).
  public var cell: String
  /// Rounds finished, over all repetitions.
  public var roundsDone: Int
  /// Rounds the protocol asks for, over all repetitions.
  public var roundsTotal: Int

  /// Creates a progress record.
  public init(cell: String, roundsDone: Int, roundsTotal: Int) {
    self.cell = cell
    self.roundsDone = roundsDone
    self.roundsTotal = roundsTotal
  }
}
