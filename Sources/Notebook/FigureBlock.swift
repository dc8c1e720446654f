import Acquisition

/// A ```` ```dbal-figure ```` block: test accuracy against acquired images, one line per series.
///
/// ```
/// id: accuracy-curves
/// panels: acquisition
/// series: model
/// metric: mc
/// title: Bayesian vs deterministic CNNs
/// caption: Test accuracy as a function of acquired images.
/// ```
public struct FigureBlock: Sendable, Equatable {
  /// The unique id; also the asset file name (`<report>/<id>.svg`, `<report>/<id>.csv`).
  public var id: String
  /// How cells are split into side-by-side panels.
  public var panels: PanelGrouping
  /// What distinguishes the lines within a panel.
  public var series: SeriesGrouping
  /// Which test accuracy is plotted, per model variant.
  public var metric: MetricSelection
  /// An optional title shown above the figure.
  public var title: String?
  /// The label shown before the title, e.g. `Figure 2` to follow the paper's numbering; nil
  /// numbers the figures of the document in order.
  public var label: String?
  /// An optional caption (Markdown) shown below the figure.
  public var caption: String?
  /// The 1-based line of the opening fence.
  public var line: Int

  /// Creates a figure declaration.
  public init(
    id: String,
    panels: PanelGrouping,
    series: SeriesGrouping,
    metric: MetricSelection = .uniform(.mc),
    title: String? = nil,
    caption: String? = nil,
    label: String? = nil,
    line: Int
  ) {
    self.id = id
    self.panels = panels
    self.series = series
    self.metric = metric
    self.title = title
    self.caption = caption
    self.label = label
    self.line = line
  }
}

/// How a figure's cells are split into panels.
public enum PanelGrouping: String, Sendable, CaseIterable, Hashable {
  /// One panel per acquisition function (Figure 2 of the paper).
  case acquisition
  /// A single panel (Figure 1 of the paper).
  case none
  /// One panel per dataset (the document's `datasets:`).
  case dataset
}

/// What distinguishes the lines drawn within one panel.
public enum SeriesGrouping: String, Sendable, CaseIterable, Hashable {
  /// One line per model variant (Bayesian in red, deterministic in blue).
  case model
  /// One line per acquisition function.
  case acquisition
}

/// Which test accuracy a figure or value uses.
public enum AccuracyMetric: String, Sendable, CaseIterable, Hashable {
  /// Accuracy of the MC-dropout averaged prediction (the paper's evaluation).
  case mc
  /// Accuracy with dropout off (weight scaling), as Keras evaluates by default.
  case deterministic
}

/// Which test accuracy a figure plots for each model variant.
///
/// The paper's Figure 2 compares the Bayesian CNN, evaluated with MC dropout, against the
/// deterministic CNN, which "still uses dropout, but for regularisation only" (no MC dropout at
/// test time): each model with its own metric, ``natural``.
public struct MetricSelection: Sendable, Equatable, Hashable {
  /// The metric of each model variant named explicitly.
  public var perModel: [UncertaintySource: AccuracyMetric]
  /// The metric of every model not in ``perModel``.
  public var otherwise: AccuracyMetric

  /// Creates a selection.
  public init(perModel: [UncertaintySource: AccuracyMetric], otherwise: AccuracyMetric = .mc) {
    self.perModel = perModel
    self.otherwise = otherwise
  }

  /// The same metric for every model.
  public static func uniform(_ metric: AccuracyMetric) -> MetricSelection {
    MetricSelection(perModel: [:], otherwise: metric)
  }

  /// Each model's own metric: MC dropout for the Bayesian CNN, dropout off for the
  /// deterministic one.
  public static let natural = MetricSelection(
    perModel: [.mcDropout: .mc, .deterministic: .deterministic]
  )

  /// The metric plotted for `model`.
  public func metric(for model: UncertaintySource) -> AccuracyMetric {
    perModel[model] ?? otherwise
  }
}
