import Notebook

/// Draws a figure's panels as SVG in the style of the paper's plots: test accuracy against
/// acquired images, one mean line per series with a shaded band, gridlines, ticks, a legend and
/// a title per panel.
///
/// The output is a pure function of the data: fixed two-decimal coordinates and a stable
/// element order, so re-rendering gives identical bytes and diffs stay readable. Elements that
/// tests and stylesheets look for carry classes: `dbal-panel` (one group per panel),
/// `dbal-series-line` (one mean line per non-empty series) and `dbal-series-band`.
struct FigureSVG {
  static let panelWidth = 420.0
  static let panelHeight = 320.0
  private static let margin = (left: 58.0, right: 14.0, top: 30.0, bottom: 46.0)
  private static let fontFamily = "Helvetica, Arial, sans-serif"

  let data: FigureData
  let title: String?
  private let xScale: AxisScale
  private let yScale: AxisScale
  private let summaries: [[CurveSummary]]
  private let repetitions: ClosedRange<Int>

  init(_ data: FigureData, title: String?) {
    self.data = data
    self.title = title
    summaries = data.panels.map { panel in
      panel.series.map { CurveSummary($0, band: data.band, quantity: data.quantity) }
    }
    let all = summaries.joined().filter { !$0.isEmpty }
    xScale = .acquired(maximum: all.compactMap(\.acquired.last).max() ?? 0)
    switch data.quantity {
    case .accuracy: yScale = .accuracy(minimum: all.compactMap { $0.lower.min() }.min())
    case .expectedCalibrationError:
      // Headroom: the lines keep to the lower two thirds, under the legend in the upper right.
      yScale = .fromZero(maximum: all.compactMap { $0.upper.max() }.max().map { $0 * 1.5 })
    }
    // Repetitions behind each plotted point: a partial report must not claim runs that have
    // not reached a point (a mean line continues over fewer runs where others stopped).
    let pointCounts = data.panels.flatMap(\.series).flatMap { series in
      Dictionary(grouping: series.runs.flatMap { $0.points.map(\.acquired) }, by: { $0 })
        .values.map(\.count)
    }
    repetitions = (pointCounts.min() ?? 0)...(pointCounts.max() ?? 0)
  }

  /// How many repetitions each plotted point averages: `3`, or `1–3` while a report is
  /// partial and some runs have not reached every point.
  var repetitionText: String {
    repetitions.lowerBound == repetitions.upperBound
      ? "\(repetitions.upperBound)" : "\(repetitions.lowerBound)–\(repetitions.upperBound)"
  }

  /// The caption's words for ``repetitionText``: `3 repetitions`, or, when points average
  /// different numbers of runs, `1–3 repetitions (each point: those that reached it)`.
  var repetitionPhrase: String {
    repetitions.lowerBound == repetitions.upperBound
      ? (repetitions.upperBound == 1 ? "1 repetition" : "\(repetitionText) repetitions")
      : "\(repetitionText) repetitions (each point: those that reached it)"
  }

  // MARK: - Documents

  /// All panels side by side in one standalone SVG file.
  func standalone() -> String {
    let width = Self.panelWidth * Double(max(data.panels.count, 1))
    var svg = openingTag(width: width, namespace: true, label: title ?? data.id)
    for (index, _) in data.panels.enumerated() {
      svg += panel(index, offset: Double(index) * Self.panelWidth)
    }
    return svg + "</svg>\n"
  }

  /// One SVG per panel, without the XML namespace (HTML5 inline SVG needs none), so a page can
  /// wrap them on narrow screens.
  func inlinePanels() -> [String] {
    data.panels.indices.map { index in
      openingTag(
        width: Self.panelWidth,
        namespace: false,
        label: data.panels[index].title
      )
        + panel(index, offset: 0) + "</svg>"
    }
  }

  private func openingTag(width: Double, namespace: Bool, label: String) -> String {
    let w = format(width)
    let h = format(Self.panelHeight)
    let xmlns = namespace ? " xmlns=\"http://www.w3.org/2000/svg\"" : ""
    return "<svg\(xmlns) class=\"dbal-figure-svg\" viewBox=\"0 0 \(w) \(h)\" width=\"\(w)\""
      + " height=\"\(h)\" font-family=\"\(Self.fontFamily)\" font-size=\"13\" role=\"img\">\n"
      + "<title>\(escape(label))</title>\n"
      + "<rect width=\"\(w)\" height=\"\(h)\" fill=\"#ffffff\"/>\n"
  }

  // MARK: - Panel

  private var plotLeft: Double { Self.margin.left }
  private var plotRight: Double { Self.panelWidth - Self.margin.right }
  private var plotTop: Double { Self.margin.top }
  private var plotBottom: Double { Self.panelHeight - Self.margin.bottom }

  private func x(_ value: Double) -> Double {
    xScale.position(value, from: plotLeft, to: plotRight)
  }
  private func y(_ value: Double) -> Double {
    yScale.position(value, from: plotBottom, to: plotTop)
  }

  private func panel(_ index: Int, offset: Double) -> String {
    let panel = data.panels[index]
    var svg = "<g class=\"dbal-panel\" transform=\"translate(\(format(offset)),0)\">\n"
    svg += text(
      panel.title,
      x: (plotLeft + plotRight) / 2,
      y: 19,
      anchor: "middle",
      attributes: "font-size=\"14\" font-weight=\"bold\" class=\"dbal-panel-title\""
    )
    svg += grid()
    for (series, summary) in zip(panel.series, summaries[index]) where !summary.isEmpty {
      svg += band(summary, color: series.color)
    }
    for (series, summary) in zip(panel.series, summaries[index]) where !summary.isEmpty {
      svg += line(summary, series: series)
    }
    if summaries[index].allSatisfy(\.isEmpty) {
      svg += text(
        "no finished rounds yet",
        x: (plotLeft + plotRight) / 2,
        y: (plotTop + plotBottom) / 2,
        anchor: "middle",
        attributes: "fill=\"#777777\""
      )
    }
    svg += legend(panel.series)
    return svg + "</g>\n"
  }

  private func grid() -> String {
    var svg = "<g class=\"dbal-grid\" stroke=\"#e3e3e3\" stroke-width=\"1\">\n"
    for tick in xScale.ticks {
      svg += lineElement(x(tick), plotTop, x(tick), plotBottom)
    }
    for tick in yScale.ticks {
      svg += lineElement(plotLeft, y(tick), plotRight, y(tick))
    }
    svg += "</g>\n<g class=\"dbal-axes\" fill=\"#333333\">\n"
    svg +=
      "<rect x=\"\(format(plotLeft))\" y=\"\(format(plotTop))\""
      + " width=\"\(format(plotRight - plotLeft))\" height=\"\(format(plotBottom - plotTop))\""
      + " fill=\"none\" stroke=\"#555555\" stroke-width=\"1\"/>\n"
    for tick in xScale.ticks {
      svg += text(tickLabel(tick, digits: 0), x: x(tick), y: plotBottom + 16, anchor: "middle")
    }
    for tick in yScale.ticks {
      svg += text(tickLabel(tick, digits: 2), x: plotLeft - 6, y: y(tick) + 4, anchor: "end")
    }
    svg += text(
      data.xLabel,
      x: (plotLeft + plotRight) / 2,
      y: Self.panelHeight - 10,
      anchor: "middle"
    )
    let middle = format((plotTop + plotBottom) / 2)
    svg +=
      "<text x=\"0\" y=\"0\" text-anchor=\"middle\" transform=\"translate(14,\(middle))"
      + " rotate(-90)\">\(escape(data.yLabel))</text>\n"
    return svg + "</g>\n"
  }

  private func band(_ summary: CurveSummary, color: SeriesColor) -> String {
    var d = ""
    for index in summary.acquired.indices {
      d += (index == 0 ? "M" : " L") + point(summary.acquired[index], summary.upper[index])
    }
    for index in summary.acquired.indices.reversed() {
      d += " L" + point(summary.acquired[index], summary.lower[index])
    }
    return "<path class=\"dbal-series-band\" d=\"\(d) Z\" fill=\"\(color.hex)\""
      + " fill-opacity=\"0.18\" stroke=\"none\"/>\n"
  }

  private func line(_ summary: CurveSummary, series: CurveSeries) -> String {
    var d = ""
    for index in summary.acquired.indices {
      d += (index == 0 ? "M" : " L") + point(summary.acquired[index], summary.mean[index])
    }
    var svg =
      "<path class=\"dbal-series-line\" data-configuration=\""
      + "\(escape(series.configuration))\" d=\"\(d)\" fill=\"none\" stroke=\"\(series.color.hex)\""
      + " stroke-width=\"1.8\" stroke-linejoin=\"round\"/>\n"
    if summary.acquired.count == 1 {  // a lone point draws no line: mark it
      svg +=
        "<circle cx=\"\(format(x(Double(summary.acquired[0]))))\""
        + " cy=\"\(format(y(summary.mean[0])))\" r=\"3\" fill=\"\(series.color.hex)\"/>\n"
    }
    return svg
  }

  /// The legend in the lower right of the plot, where accuracy curves leave room (upper right
  /// for calibration errors, which fall towards 0 as the model learns).
  private func legend(_ series: [CurveSeries]) -> String {
    let entries = series.map(\.label) + [data.band.legendText + " (n = \(repetitionText))"]
    let rowHeight = 16.0
    let width = 34 + 7.0 * Double(entries.map(\.count).max() ?? 0)
    let height = rowHeight * Double(entries.count) + 8
    let left = plotRight - width - 8
    let top = data.quantity == .accuracy ? plotBottom - height - 8 : plotTop + 8
    var svg = "<g class=\"dbal-legend\">\n"
    svg +=
      "<rect x=\"\(format(left))\" y=\"\(format(top))\" width=\"\(format(width))\""
      + " height=\"\(format(height))\" fill=\"#ffffff\" fill-opacity=\"0.9\" stroke=\"#cccccc\"/>\n"
    for (index, entry) in entries.enumerated() {
      let rowY = top + 4 + rowHeight * (Double(index) + 0.5)
      if index < series.count {
        svg +=
          "<line x1=\"\(format(left + 6))\" y1=\"\(format(rowY))\" x2=\"\(format(left + 26))\""
          + " y2=\"\(format(rowY))\" stroke=\"\(series[index].color.hex)\" stroke-width=\"2.5\"/>\n"
        svg += text(entry, x: left + 32, y: rowY + 4, anchor: "start")
      } else {
        svg +=
          "<rect x=\"\(format(left + 6))\" y=\"\(format(rowY - 5))\" width=\"20\""
          + " height=\"10\" fill=\"#888888\" fill-opacity=\"0.3\"/>\n"
        svg += text(
          entry,
          x: left + 32,
          y: rowY + 4,
          anchor: "start",
          attributes: "fill=\"#555555\""
        )
      }
    }
    return svg + "</g>\n"
  }

  // MARK: - Elements

  private func point(_ acquired: Int, _ accuracy: Double) -> String {
    format(x(Double(acquired))) + "," + format(y(accuracy))
  }

  private func lineElement(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double) -> String {
    "<line x1=\"\(format(x1))\" y1=\"\(format(y1))\" x2=\"\(format(x2))\" y2=\"\(format(y2))\"/>\n"
  }

  private func text(
    _ content: String,
    x: Double,
    y: Double,
    anchor: String,
    attributes: String = ""
  ) -> String {
    let extra = attributes.isEmpty ? "" : " " + attributes
    return "<text x=\"\(format(x))\" y=\"\(format(y))\" text-anchor=\"\(anchor)\"\(extra)>"
      + "\(escape(content))</text>\n"
  }

  private func tickLabel(_ value: Double, digits: Int) -> String {
    TextFormatting.fixed(value, digits: digits)
  }

  private func format(_ value: Double) -> String { TextFormatting.fixed(value, digits: 2) }
  private func escape(_ text: String) -> String { TextFormatting.xmlEscaped(text) }
}

// MARK: - CSV

extension FigureData {
  /// Every plotted point, one row per configuration, repetition and round; accuracies and
  /// calibration metrics (NLL, Brier score, ECE with 15 equal-width bins, MC and dropout off;
  /// empty where not computed yet) are written with Swift's shortest round-tripping
  /// representation, so they equal the inputs.
  func csv() -> String {
    var csv =
      "configuration,repetition,acquired_images,labelled_images,test_accuracy_mc,"
      + "test_accuracy_deterministic,plotted_metric,weight_decay,nll_mc,brier_mc,ece_mc,"
      + "nll_deterministic,brier_deterministic,ece_deterministic\n"
    var written: Set<String> = []
    for series in panels.flatMap(\.series) where written.insert(series.configuration).inserted {
      let configuration = TextFormatting.csvField(series.configuration)
      for run in series.runs {
        for point in run.points {
          csv +=
            "\(configuration),\(run.repetition),\(point.acquired),\(point.labelled),"
            + "\(point.accuracyMC),\(point.accuracyDeterministic),\(series.metric.rawValue),"
            + "\(point.weightDecay.map { String($0) } ?? "")"
            + Self.calibrationFields(point.calibrationMC)
            + Self.calibrationFields(point.calibrationDeterministic) + "\n"
        }
      }
    }
    return csv
  }

  /// `,nll,brier,ece`, or three empty fields for a round not calibrated yet.
  private static func calibrationFields(_ point: CalibrationPoint?) -> String {
    guard let point else { return ",,," }
    return ",\(point.negativeLogLikelihood),\(point.brierScore),\(point.expectedCalibrationError)"
  }
}
