public import Notebook

/// The plotted data of one `dbal-figure`: panels of series of repeated accuracy curves.
///
/// The renderer draws one line per series (the mean over repetitions at each number of acquired
/// images) with a shaded ``UncertaintyBand``, and writes every point to a CSV file next to the
/// SVG so each plotted number can be traced back.
public struct FigureData: Sendable, Equatable {
  /// The figure's id, matching the document's `dbal-figure` `id:`.
  public var id: String
  /// Panels drawn side by side, in order.
  public var panels: [FigurePanel]
  /// The x-axis label.
  public var xLabel: String
  /// The y-axis label.
  public var yLabel: String
  /// What the shaded band around each mean line shows.
  public var band: UncertaintyBand
  /// What the y axis shows of each point (test accuracy, or a calibration error).
  public var quantity: FigureQuantity

  /// Creates figure data; the axis labels default to the paper's.
  public init(
    id: String,
    panels: [FigurePanel],
    xLabel: String = "Acquired images",
    yLabel: String = "Test accuracy",
    band: UncertaintyBand = .minMax,
    quantity: FigureQuantity = .accuracy
  ) {
    self.id = id
    self.panels = panels
    self.xLabel = xLabel
    self.yLabel = yLabel
    self.band = band
    self.quantity = quantity
  }
}

/// The quantity a figure plots of each round, by its series' ``AccuracyMetric`` (the MC or the
/// deterministic prediction).
public enum FigureQuantity: String, Sendable, Equatable {
  /// Test accuracy: the y axis runs up to 1 (the paper's plots).
  case accuracy
  /// Expected calibration error (15 equal-width bins): the y axis starts at 0; rounds not
  /// calibrated yet are left out.
  case expectedCalibrationError = "ece"
}

/// The calibration of one round's test predictions (one of MC or dropout off).
public struct CalibrationPoint: Sendable, Equatable {
  /// Mean negative log-likelihood of the true class (nats).
  public var negativeLogLikelihood: Double
  /// Mean multi-class Brier score.
  public var brierScore: Double
  /// Expected calibration error (15 equal-width confidence bins).
  public var expectedCalibrationError: Double

  /// Creates a point.
  public init(negativeLogLikelihood: Double, brierScore: Double, expectedCalibrationError: Double) {
    self.negativeLogLikelihood = negativeLogLikelihood
    self.brierScore = brierScore
    self.expectedCalibrationError = expectedCalibrationError
  }
}

/// One panel of a figure, for example all models under BALD acquisition.
public struct FigurePanel: Sendable, Equatable {
  /// The title drawn above the panel (for example `BALD`).
  public var title: String
  /// The series drawn in the panel, in legend order.
  public var series: [CurveSeries]

  /// Creates a panel.
  public init(title: String, series: [CurveSeries]) {
    self.title = title
    self.series = series
  }
}

/// One line of a panel: the repetitions of one experiment cell.
public struct CurveSeries: Sendable, Equatable {
  /// The legend label (for example `Bayesian CNN`).
  public var label: String
  /// The cell that produced the data (for example `bald.bayesian`); it appears in the CSV
  /// and in the stage table of the provenance section.
  public var configuration: String
  /// The line and band colour.
  public var color: SeriesColor
  /// Which test accuracy the line shows.
  public var metric: AccuracyMetric
  /// The model the line's cells ran (for example `Deterministic CNN`), which the figure's note
  /// names beside each metric; nil to name the label instead.
  public var model: String?
  /// The repetitions; runs may have different lengths while a report is partial.
  public var runs: [CurveRun]

  /// Creates a series.
  public init(
    label: String,
    configuration: String,
    color: SeriesColor,
    metric: AccuracyMetric = .mc,
    model: String? = nil,
    runs: [CurveRun]
  ) {
    self.label = label
    self.configuration = configuration
    self.color = color
    self.metric = metric
    self.model = model
    self.runs = runs
  }
}

/// One repetition of an active-learning experiment: accuracy after each acquisition round.
public struct CurveRun: Sendable, Equatable {
  /// The repetition index (0-based), as in the stage names.
  public var repetition: Int
  /// The evaluated rounds, in increasing order of acquired images.
  public var points: [CurvePoint]

  /// Creates a run.
  public init(repetition: Int, points: [CurvePoint]) {
    self.repetition = repetition
    self.points = points
  }
}

/// The test accuracies after one acquisition round.
public struct CurvePoint: Sendable, Equatable {
  /// Images acquired so far (0 before the first acquisition); the x coordinate.
  public var acquired: Int
  /// Size of the labelled training set (initial set plus acquired images).
  public var labelled: Int
  /// Test accuracy of the MC-dropout prediction, in [0, 1].
  public var accuracyMC: Double
  /// Test accuracy with dropout off, in [0, 1].
  public var accuracyDeterministic: Double
  /// The weight-decay constant c the round's model was trained with (chosen on the validation
  /// set in grid mode); nil where the evaluation did not record it.
  public var weightDecay: Double?
  /// Calibration of the MC prediction; nil while the round's calibrate stage has not run.
  public var calibrationMC: CalibrationPoint?
  /// Calibration of the dropout-off prediction; nil while not computed.
  public var calibrationDeterministic: CalibrationPoint?

  /// Creates a point.
  public init(
    acquired: Int,
    labelled: Int,
    accuracyMC: Double,
    accuracyDeterministic: Double,
    weightDecay: Double? = nil,
    calibrationMC: CalibrationPoint? = nil,
    calibrationDeterministic: CalibrationPoint? = nil
  ) {
    self.acquired = acquired
    self.labelled = labelled
    self.accuracyMC = accuracyMC
    self.accuracyDeterministic = accuracyDeterministic
    self.weightDecay = weightDecay
    self.calibrationMC = calibrationMC
    self.calibrationDeterministic = calibrationDeterministic
  }

  /// The calibration `metric` selects, where computed.
  public func calibration(_ metric: AccuracyMetric) -> CalibrationPoint? {
    switch metric {
    case .mc: calibrationMC
    case .deterministic: calibrationDeterministic
    }
  }

  /// The value a figure of `quantity` plots for `metric`; nil where not computed.
  public func value(_ quantity: FigureQuantity, _ metric: AccuracyMetric) -> Double? {
    switch quantity {
    case .accuracy: accuracy(metric)
    case .expectedCalibrationError: calibration(metric)?.expectedCalibrationError
    }
  }

  /// The accuracy `metric` selects.
  public func accuracy(_ metric: AccuracyMetric) -> Double {
    switch metric {
    case .mc: accuracyMC
    case .deterministic: accuracyDeterministic
    }
  }
}

/// What the shaded band around a mean line shows.
public enum UncertaintyBand: String, Sendable, CaseIterable {
  /// From the lowest to the highest repetition at each x.
  case minMax = "min-max"
  /// The mean plus and minus one (population) standard deviation over repetitions.
  case standardDeviation = "std"

  /// How the legend and caption describe the band.
  public var legendText: String {
    switch self {
    case .minMax: "band: min–max over repetitions"
    case .standardDeviation: "band: ±1 std over repetitions"
    }
  }
}

/// A series colour as a `#rrggbb` hex string.
public struct SeriesColor: Sendable, Equatable, Hashable, CustomStringConvertible {
  /// The colour as `#rrggbb`, lower-case.
  public let hex: String

  /// Creates a colour from `#rrggbb`; any other spelling is a programmer error.
  public init(hex: String) {
    precondition(
      hex.count == 7 && hex.first == "#" && hex.dropFirst().allSatisfy(\.isHexDigit),
      "SeriesColor expects '#rrggbb', got '\(hex)'"
    )
    self.hex = hex.lowercased()
  }

  /// `#rrggbb`.
  public var description: String { hex }

  /// The paper's colour for the Bayesian CNN (red).
  public static let bayesian = SeriesColor(hex: "#d62728")
  /// The paper's colour for the deterministic CNN (blue).
  public static let deterministic = SeriesColor(hex: "#1f77b4")
  /// Ten distinguishable colours (the Tableau 10 palette) for figures with many series.
  public static let palette: [SeriesColor] = [
    "#d62728", "#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
  ].map(SeriesColor.init(hex:))
}
