import Foundation
import Notebook
import TestSupport
import Testing

@testable import Reports

#if canImport(FoundationXML)
  import FoundationXML
#endif

@Suite struct ReportRendererTests {
  let document: NotebookDocument

  init() throws {
    document = try NotebookDocument(parsing: NotebookFixtures.figure2, fileName: "fig2.md")
  }

  private func render(_ inputs: ReportInputs = SampleReport.inputs()) throws -> RenderedReport {
    try ReportRenderer.render(document: document, inputs: inputs)
  }

  // MARK: - Figures

  @Test func svgIsWellFormedWithOnePathPerSeriesAndPanel() throws {
    let report = try render()
    #expect(report.assets.map(\.path) == ["fig2/accuracy-curves.svg", "fig2/accuracy-curves.csv"])
    let svg = try #require(report.assets.first?.contents)
    let classes = try ElementClassCounter.count(svg)
    #expect(classes["dbal-panel"] == 3)
    #expect(classes["dbal-series-line"] == 6)
    #expect(classes["dbal-series-band"] == 6)
    #expect(classes["dbal-panel-title"] == 3)
    for title in ["BALD", "Var Ratios", "Max Entropy", "Bayesian CNN", "Deterministic CNN"] {
      #expect(svg.contains(">\(title)</text>"))
    }
    #expect(svg.contains("stroke=\"#d62728\"") && svg.contains("stroke=\"#1f77b4\""))
  }

  @Test func meanLineGoesThroughTheMeanOfTheRepetitions() throws {
    // Two runs at 0.6/0.8 then 1.0/1.0: the mean line is at 0.7 then 1.0, the y axis starts at
    // 0.6 (the lowest value, already a multiple of 0.05), the x axis ends at 10.
    let runs = [
      CurveRun(
        repetition: 0,
        points: [
          CurvePoint(acquired: 0, labelled: 20, accuracyMC: 0.6, accuracyDeterministic: 0),
          CurvePoint(acquired: 10, labelled: 30, accuracyMC: 1, accuracyDeterministic: 0),
        ]
      ),
      CurveRun(
        repetition: 1,
        points: [
          CurvePoint(acquired: 0, labelled: 20, accuracyMC: 0.8, accuracyDeterministic: 0),
          CurvePoint(acquired: 10, labelled: 30, accuracyMC: 1, accuracyDeterministic: 0),
        ]
      ),
    ]
    var inputs = SampleReport.inputs()
    inputs.figures["accuracy-curves"] = FigureData(
      id: "accuracy-curves",
      panels: [
        FigurePanel(
          title: "P",
          series: [
            CurveSeries(label: "S", configuration: "bald.bayesian", color: .bayesian, runs: runs)
          ]
        )
      ]
    )
    let svg = try #require(try render(inputs).assets.first?.contents)
    // Plot area: x 58...406, y 274 (0.6) ... 30 (1.0); 0.7 sits a quarter of the way up.
    #expect(
      svg.contains(
        "class=\"dbal-series-line\" data-configuration=\"bald.bayesian\" d=\"M58.00,213.00 L406.00,30.00\""
      )
    )
    #expect(
      svg.contains(">0.60</text>") && svg.contains(">1.00</text>") && !svg.contains(">0.55</text>")
    )
    #expect(svg.contains(">10</text>"))
  }

  @Test func csvRowsMatchTheInputsExactly() throws {
    let report = try render()
    let csv = try #require(report.assets.last?.contents)
    let lines = csv.split(separator: "\n").map(String.init)
    #expect(
      lines.first
        == "configuration,repetition,acquired_images,labelled_images,test_accuracy_mc,"
        + "test_accuracy_deterministic,plotted_metric,weight_decay,nll_mc,brier_mc,ece_mc,"
        + "nll_deterministic,brier_deterministic,ece_deterministic"
    )
    let expected = SampleReport.figure().panels.flatMap(\.series).flatMap { series in
      series.runs.flatMap { run in run.points.map { (series.configuration, run.repetition, $0) } }
    }
    #expect(lines.count == 1 + expected.count)
    #expect(expected.count == 3 * 2 * 3 * 99)
    for (line, (configuration, repetition, point)) in zip(lines.dropFirst(), expected) {
      let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
      #expect(fields.count == 14)
      #expect(fields[6] == "mc" && fields[7] == "", "metric plotted; no weight decay recorded")
      #expect(fields[8...].allSatisfy { $0.isEmpty }, "no round calibrated")
      #expect(fields[0] == configuration && Int(fields[1]) == repetition)
      #expect(Int(fields[2]) == point.acquired && Int(fields[3]) == point.labelled)
      #expect(
        Double(fields[4]) == point.accuracyMC && Double(fields[5]) == point.accuracyDeterministic
      )
    }
  }

  // MARK: - Markdown and HTML

  @Test func markdownReferencesAssetsAndFillsValues() throws {
    let markdown = try render().markdown
    #expect(
      markdown.contains(
        "![Figure 1: Test accuracy against acquired images](fig2/accuracy-curves.svg)"
      )
    )
    #expect(markdown.contains("[fig2/accuracy-curves.csv](fig2/accuracy-curves.csv)"))
    #expect(markdown.contains("BALD reaches 98.12% with MC dropout and\n97.40% without."))
    #expect(markdown.contains("| 10% | 150 | 130 | 170 | 120 |"))
    #expect(markdown.contains("# {{not a value}} inside code"))
    #expect(!markdown.contains("dbal-"))
    #expect(markdown.hasPrefix("# Figure 2: Bayesian vs deterministic CNNs\n"))
  }

  @Test func htmlIsSelfContainedAndCarriesProvenance() throws {
    let html = try render().html
    #expect(html.hasPrefix("<!DOCTYPE html>"))
    #expect(html.contains("<meta name=\"viewport\""))
    #expect(html.contains("@media print"))
    #expect(html.components(separatedBy: "<svg ").count - 1 == 3)
    #expect(html.contains("<a href=\"fig2/accuracy-curves.csv\">"))
    for forbidden in ["<script", "http", "<link", "@import", "url("] {
      #expect(!html.contains(forbidden), "found \(forbidden)")
    }
    let provenance = SampleReport.provenance
    for field in [
      provenance.command, provenance.gitCommit!, provenance.parametersDigest, "20170302",
      provenance.system.cpuModel, "6.3.1", "1.10.8", "2.6.3", "AVX-512", "128.0 GiB",
      "bald.bayesian", "10 h 02 min", "<table>", "<pre><code",
    ] {
      #expect(html.contains(field), "missing \(field)")
    }
    #expect(html.contains("<span class=\"value\">98.12%</span>"))
  }

  @Test func dataIsEscapedInHTMLAndMarkdown() throws {
    var inputs = SampleReport.inputs()
    inputs.values["final.mc.bald.bayesian"] = "<script>alert(1)</script>"
    inputs.tables["acquired-to-error"] = TableData(
      columns: ["A|B", "<i>"],
      rows: [["x|y", "a & b"]],
      notes: ["<b>n</b>"]
    )
    inputs.provenance.command = "pipeline reproduce fig2 --set 'x=<y>' && echo `hi`"
    let report = try render(inputs)
    #expect(
      !report.html.contains("<script>")
        && report.html.contains("&lt;script&gt;alert(1)&lt;/script&gt;")
    )
    #expect(report.html.contains("<th>&lt;i&gt;</th>") && report.html.contains("a &amp; b"))
    #expect(report.html.contains("&lt;b&gt;n&lt;/b&gt;"))
    #expect(report.html.contains("--set &#39;x=&lt;y&gt;&#39; &amp;&amp; echo `hi`"))
    #expect(report.markdown.contains("| A\\|B | &lt;i&gt; |"))
    #expect(report.markdown.contains("| x\\|y | a & b |"))
    #expect(report.markdown.contains("`` pipeline reproduce fig2 --set 'x=<y>' && echo `hi` ``"))
  }

  @Test func renderingTwiceGivesIdenticalBytes() throws {
    let first = try render()
    // Same content, dictionaries built in another order.
    var inputs = SampleReport.inputs()
    inputs.values = Dictionary(uniqueKeysWithValues: SampleReport.values.sorted { $0.key > $1.key })
    let second = try render(inputs)
    #expect(first == second)
    let directory = try TestSupport.temporaryDirectory("reports")
    defer { try? FileManager.default.removeItem(at: directory) }
    let written = try first.write(to: directory)
    #expect(
      written.map { $0.path.replacingOccurrences(of: directory.path + "/", with: "") } == [
        "fig2.md", "fig2.html", "fig2/accuracy-curves.svg", "fig2/accuracy-curves.csv",
      ]
    )
    try second.write(to: directory)
    let html = try String(
      contentsOf: directory.appendingPathComponent("fig2.html"),
      encoding: .utf8
    )
    #expect(html == first.html)
  }

  // MARK: - Partial reports and notices

  @Test func partialReportsAreMarkedAtTheTop() throws {
    var inputs = SampleReport.inputs(
      completeness: .partial([
        CellProgress(cell: "bald.bayesian", roundsDone: 120, roundsTotal: 294),
        CellProgress(cell: "bald.deterministic", roundsDone: 294, roundsTotal: 294),
      ])
    )
    inputs.figures["accuracy-curves"] = SampleReport.figure(rounds: 40, repetitions: 2)
    inputs.provenance.profileNotice =
      "quick profile: reduced protocol (1 repetition, 30 rounds) — not the paper's protocol"
    let report = try render(inputs)
    let markdown = report.markdown
    let banner = try #require(markdown.range(of: "> **Partial report.**"))
    let prose = try #require(markdown.range(of: "We compare"))
    #expect(banner.lowerBound < prose.lowerBound)
    #expect(markdown.hasPrefix("# Figure 2"))
    #expect(markdown.contains("1 of 2 cells finished (414 of 588 rounds, 70.4%)"))
    #expect(markdown.contains("> | Cell | Rounds evaluated | Progress |"))
    #expect(markdown.contains("> | `bald.bayesian` | 120 / 294 | 40.8% |"))
    #expect(markdown.contains("**Not the paper's protocol.** quick profile: reduced protocol"))
    #expect(markdown.contains("| Completeness | partial: 414 of 588 rounds |"))
    #expect(markdown.contains("over 2 repetitions"))
    #expect(report.html.contains("class=\"notice notice-partial\""))
    #expect(report.html.contains("class=\"notice notice-profile\""))
  }

  @Test func aPartialFigureSaysHowManyRepetitionsEachPointAverages() throws {
    var figure = SampleReport.figure(rounds: 40, repetitions: 2)
    // Repetition 1 of every series stopped after 3 rounds: beyond 20 acquired, one run.
    for p in figure.panels.indices {
      for s in figure.panels[p].series.indices {
        figure.panels[p].series[s].runs[1].points.removeSubrange(3...)
      }
    }
    var inputs = SampleReport.inputs(
      completeness: .partial([CellProgress(cell: "bald.bayesian", roundsDone: 43, roundsTotal: 80)])
    )
    inputs.figures["accuracy-curves"] = figure
    let report = try render(inputs)
    #expect(report.markdown.contains("over 1–2 repetitions (each point: those that reached it)"))
    #expect(!report.markdown.contains("over 2 repetitions"))
    #expect(report.html.contains("(n = 1–2)"))
  }

  @Test func importedResultsSayTheCodeVersionIsTheRenderings() throws {
    var inputs = SampleReport.inputs()
    #expect(inputs.provenance.wallSeconds > 0)
    let computed = try render(inputs).markdown
    #expect(computed.contains("Every number above was computed by the command below."))
    #expect(computed.contains("| Code version | `"))
    inputs.provenance.wallSeconds = 0
    let imported = try render(inputs).markdown
    #expect(imported.contains("The numbers above were not computed by one run of the command"))
    #expect(imported.contains("| Code version (rendering) | `"))
    #expect(!imported.contains("Every number above was computed by the command below."))
    #expect(!imported.contains("| Checkout |"))
    // Rendered in a checkout at a later commit (one that added bundles): it is named too.
    inputs.provenance.checkoutCommit = String(repeating: "c", count: 40)
    let later = try render(inputs).markdown
    #expect(later.contains("| Checkout | `\(String(repeating: "c", count: 40))` (the target"))
  }

  @Test func completeReportsCarryNoBanner() throws {
    let report = try render()
    #expect(!report.markdown.contains("Partial report") && !report.html.contains("class=\"notice"))
  }

  // MARK: - Errors

  @Test func unknownValuesNameTheirLine() throws {
    let text = NotebookFixtures.figure2.replacingOccurrences(
      of: "{{value final.mc.bald.deterministic}}",
      with: "{{value final.mc.bald.deterministc}}"
    )
    let broken = try NotebookDocument(parsing: text, fileName: "fig2.md")
    #expect(
      throws: ReportError.unknownValue(
        name: "final.mc.bald.deterministc",
        file: "fig2.md",
        line: 27,
        available: SampleReport.values.keys.sorted()
      )
    ) {
      try ReportRenderer.render(document: broken, inputs: SampleReport.inputs())
    }
    let error = ReportError.unknownValue(
      name: "x",
      file: "fig2.md",
      line: 27,
      available: ["a", "b"]
    )
    #expect(error.description.hasPrefix("fig2.md:27: unknown value 'x'"))
    #expect(error.description.contains("available values: a, b"))
  }

  @Test func missingOrInconsistentDataIsAnError() throws {
    var inputs = SampleReport.inputs()
    inputs.figures = [:]
    #expect(throws: ReportError.missingFigureData(id: "accuracy-curves", file: "fig2.md", line: 17))
    {
      try render(inputs)
    }
    inputs = SampleReport.inputs()
    inputs.tables = [:]
    #expect(
      throws: ReportError.missingTableData(id: "acquired-to-error", file: "fig2.md", line: 33)
    ) {
      try render(inputs)
    }
    inputs = SampleReport.inputs()
    inputs.tables["acquired-to-error"] = TableData(columns: ["a", "b"], rows: [["1"]])
    #expect(throws: ReportError.raggedTable(id: "acquired-to-error", row: 0, expected: 2, found: 1))
    {
      try render(inputs)
    }
  }

  @Test func eachSeriesPlotsItsOwnMetricAndTheFigureSaysWhich() throws {
    var inputs = SampleReport.inputs()
    var figure = try #require(inputs.figures["accuracy-curves"])
    for panel in figure.panels.indices {
      figure.panels[panel].series[1].metric = .deterministic
      // The note names each series' model once, not a panel's qualified label.
      figure.panels[panel].series[0].model = "Bayesian CNN"
      figure.panels[panel].series[1].model = "Deterministic CNN"
      if panel == 0 { figure.panels[panel].series[1].label += " (BALD = 0: random selection)" }
      // Dropout-off accuracy 0.5 everywhere: only a series reading it can show 0.5.
      for run in figure.panels[panel].series[1].runs.indices {
        for point in figure.panels[panel].series[1].runs[run].points.indices {
          figure.panels[panel].series[1].runs[run].points[point].accuracyDeterministic = 0.5
        }
      }
    }
    inputs.figures["accuracy-curves"] = figure
    let report = try render(inputs)
    #expect(
      report.markdown.contains(
        "mean test accuracy (MC-dropout test accuracy for Bayesian CNN; test accuracy with"
          + " dropout off for Deterministic CNN)"
      )
    )
    let deterministic = CurveSummary(figure.panels[0].series[1], band: .minMax)
    #expect(deterministic.mean.allSatisfy { $0 == 0.5 })
    let bayesian = CurveSummary(figure.panels[0].series[0], band: .minMax)
    #expect(!bayesian.mean.contains(0.5))
    let csv = try #require(report.assets.first { $0.path.hasSuffix(".csv") }?.contents)
    #expect(
      csv.hasPrefix(
        "configuration,repetition,acquired_images,labelled_images,test_accuracy_mc,"
          + "test_accuracy_deterministic,plotted_metric,weight_decay,nll_mc,brier_mc,ece_mc,"
          + "nll_deterministic,brier_deterministic,ece_deterministic\n"
      )
    )
    #expect(csv.contains(",0.5,deterministic,,,,,,,\n"))
    #expect(csv.contains(",mc,,,,,,,\n"))
  }

  /// The calibration section: its own SVG and CSV (ECE from 0, the calibration columns
  /// filled, rounds not calibrated left out), placed before provenance; the accuracy figure's
  /// files are byte for byte those of a report without it.
  @Test func calibrationFigureIsAddedWithoutChangingTheAccuracyFigure() throws {
    let plain = try render()
    var inputs = SampleReport.inputs()
    var calibration = SampleReport.figure(rounds: 5, repetitions: 2)
    calibration.id = "calibration"
    calibration.yLabel = "Expected calibration error"
    calibration.quantity = .expectedCalibrationError
    for p in calibration.panels.indices {
      for s in calibration.panels[p].series.indices {
        for r in calibration.panels[p].series[s].runs.indices {
          for (i, point) in calibration.panels[p].series[s].runs[r].points.enumerated() where i < 4
          {
            var point = point
            let ece = 0.1 / Double(i + 1)
            point.calibrationMC = CalibrationPoint(
              negativeLogLikelihood: 1,
              brierScore: 0.5,
              expectedCalibrationError: ece
            )
            point.calibrationDeterministic = point.calibrationMC
            calibration.panels[p].series[s].runs[r].points[i] = point
          }
        }
      }
    }
    // One panel's deterministic series is labelled by what it does; the legend names each
    // model once, as the accuracy figure's description does.
    calibration.panels[0].series[1].label = "Deterministic CNN (BALD = 0: random selection)"
    for p in calibration.panels.indices {
      for s in calibration.panels[p].series.indices {
        calibration.panels[p].series[s].model = s == 0 ? "Bayesian CNN" : "Deterministic CNN"
        calibration.panels[p].series[s].metric = s == 0 ? .mc : .deterministic
      }
    }
    inputs.calibration = calibration
    let report = try render(inputs)
    #expect(
      report.markdown.contains("(Bayesian CNN: predictive mean; Deterministic CNN: dropout off)"),
      "\(report.markdown)"
    )
    for asset in plain.assets {
      #expect(report.assets.first { $0.path == asset.path }?.contents == asset.contents)
    }
    let svg = try #require(report.assets.first { $0.path == "fig2/calibration.svg" }?.contents)
    let classes = try ElementClassCounter.count(svg)
    #expect(classes["dbal-series-line"] == 6)
    #expect(svg.contains(">0.00</text>") && svg.contains(">0.10</text>"))
    // Four calibrated rounds of five: the lines end at 30 acquired images.
    #expect(svg.contains("data-configuration=\"bald.bayesian\" d=\"M58.00,"))
    let csv = try #require(report.assets.first { $0.path == "fig2/calibration.csv" }?.contents)
    #expect(csv.contains(",mc,,1.0,0.5,0.1,1.0,0.5,0.1\n"))
    #expect(csv.contains(",mc,,,,,,,\n"), "the fifth round is not calibrated")
    let html = report.html
    let section = try #require(html.range(of: "Calibration over the rounds"))
    let provenanceSection = try #require(html.range(of: "id=\"provenance\""))
    #expect(section.lowerBound < provenanceSection.lowerBound)
    #expect(html.contains("15 equal-width bins"))
    #expect(html.components(separatedBy: "<svg ").count - 1 == 6)
    #expect(report.markdown.contains("fig2/calibration.svg"))
  }

  @Test func aDocumentLabelFollowsThePapersNumbering() throws {
    let text =
      "# T\n\n```dbal-experiment\nacquisitions: bald\nmodels: bayesian\n```\n\n"
      + "```dbal-figure\nid: accuracy-curves\npanels: acquisition\nseries: model\n"
      + "label: Figure 2\n```\n"
    let document = try NotebookDocument(parsing: text, fileName: "t.md")
    let markdown = try ReportRenderer.render(document: document, inputs: SampleReport.inputs())
      .markdown
    #expect(markdown.contains("**Figure 2.**") && !markdown.contains("**Figure 1.**"))
  }

  @Test func provenanceNamesWhatComputedEachCell() throws {
    let markdown = try render(SampleReport.inputs()).markdown
    #expect(markdown.contains("Computed by (code, oneDNN ISA, threads, CPU: stages)"))
    #expect(markdown.contains("| 4a316bf, jit:avx512\\_core, 2 threads, AMD EPYC: 1188 stages |"))
  }

  @Test func theProtocolSectionPrecedesProvenanceWithCodeSpans() throws {
    var inputs = SampleReport.inputs()
    inputs.protocolTable = TableData(
      columns: ["Aspect", "This report"],
      rows: [["Test accuracy", "the mean of `T = 20` passes"]]
    )
    let report = try render(inputs)
    let markdown = report.markdown
    let protocolAt = try #require(markdown.range(of: "## Protocol"))
    let provenanceAt = try #require(markdown.range(of: "## Provenance"))
    #expect(protocolAt.lowerBound < provenanceAt.lowerBound)
    #expect(markdown.contains("| Test accuracy | the mean of `T = 20` passes |"))
    #expect(report.html.contains("<code>T = 20</code>"))
    inputs.protocolTable = nil
    #expect(!(try render(inputs)).markdown.contains("## Protocol"))
  }

  @Test func provenanceIsAppendedWhenTheDocumentHasNoMarker() throws {
    let text = "# T\n\n```dbal-experiment\nacquisitions: bald\nmodels: bayesian\n```\n\nBody.\n"
    let plain = try NotebookDocument(parsing: text, fileName: "t.md")
    let report = try ReportRenderer.render(document: plain, inputs: SampleReport.inputs())
    #expect(report.name == "t" && report.assets.isEmpty)
    let body = try #require(report.markdown.range(of: "Body."))
    let provenance = try #require(report.markdown.range(of: "## Provenance"))
    #expect(body.upperBound < provenance.lowerBound)
  }
}

/// Counts XML elements by their `class` attribute; throws if the text is not well-formed XML.
final class ElementClassCounter: NSObject, XMLParserDelegate {
  struct Malformed: Error { var description: String }
  private var counts: [String: Int] = [:]

  static func count(_ xml: String) throws -> [String: Int] {
    let counter = ElementClassCounter()
    let parser = XMLParser(data: Data(xml.utf8))
    parser.delegate = counter
    guard parser.parse() else {
      throw Malformed(description: parser.parserError.map { "\($0)" } ?? "unknown XML error")
    }
    return counter.counts
  }

  func parser(
    _ parser: XMLParser,
    didStartElement elementName: String,
    namespaceURI: String?,
    qualifiedName qName: String?,
    attributes attributeDict: [String: String] = [:]
  ) {
    if let name = attributeDict["class"] { counts[name, default: 0] += 1 }
  }
}
