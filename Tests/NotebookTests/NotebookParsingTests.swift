import Acquisition
import Notebook
import TestSupport
import Testing

@Suite struct NotebookParsingTests {
  // MARK: - A full document

  @Test func parsesTheTitleAndBlocksInOrder() throws {
    let document = try NotebookDocument(parsing: NotebookFixtures.figure2, fileName: "fig2.md")
    #expect(document.title == "Figure 2: Bayesian vs deterministic CNNs")
    #expect(document.titleLine == 1)
    #expect(document.name == "fig2")
    let kinds = document.blocks.map { block -> String in
      switch block {
      case .prose: "prose"
      case .experiment: "experiment"
      case .figure: "figure"
      case .table: "table"
      case .provenance: "provenance"
      }
    }
    #expect(
      kinds == [
        "prose", "experiment", "prose", "figure", "prose", "table", "prose", "provenance",
      ]
    )
    #expect(document.blocks.map(\.line) == [1, 6, 14, 17, 25, 33, 39, 43])
  }

  @Test func parsesTheExperiment() throws {
    let experiment = try NotebookDocument(
      parsing: NotebookFixtures.figure2,
      fileName: "fig2.md"
    ).experiment
    #expect(experiment.acquisitions == [.bald, .varRatios, .maxEntropy])
    #expect(experiment.models == [.mcDropout, .deterministic])
    #expect(experiment.repetitions == 3)
    #expect(experiment.validationSize == 100)
    #expect(
      experiment.overrides == [
        ParameterOverride(name: "epochs", value: "50"),
        ParameterOverride(name: "mc-samples", value: "20"),
      ]
    )
    #expect(experiment.line == 6)
  }

  @Test func parsesFiguresAndTables() throws {
    let document = try NotebookDocument(parsing: NotebookFixtures.figure2, fileName: "fig2.md")
    #expect(
      document.figures == [
        FigureBlock(
          id: "accuracy-curves",
          panels: .acquisition,
          series: .model,
          metric: .uniform(.mc),
          title: "Test accuracy against acquired images",
          caption: "Bayesian CNN (red) against deterministic CNN (blue).",
          line: 17
        )
      ]
    )
    #expect(
      document.tables == [
        TableBlock(
          id: "acquired-to-error",
          kind: .acquiredToError,
          errorThresholds: [10, 5],
          caption: "Acquired images needed to reach a given test error.",
          line: 33
        )
      ]
    )
  }

  @Test func appliesDefaults() throws {
    let text = """
      ```dbal-experiment
      acquisitions: random, var-ratios-mean, mean-std
      models: deterministic
      ```
      ```dbal-figure
      id: f
      panels: none
      series: acquisition
      ```
      ```dbal-table
      id: t1
      kind: acquired-to-error
      ```
      ```dbal-table
      id: t2
      kind: error-at-end
      ```
      """
    let document = try NotebookDocument(parsing: text, fileName: "x.md")
    #expect(document.title == nil)
    #expect(document.experiment.acquisitions == [.random, .varRatiosMean, .meanSTD])
    #expect(document.experiment.repetitions == nil)
    #expect(document.experiment.overrides.isEmpty)
    #expect(document.figures.first?.metric == .uniform(.mc))
    #expect(document.tables.map(\.errorThresholds) == [[10, 5], []])
  }

  @Test func acceptsTildeFencesLongerFencesAndWindowsLineEndings() throws {
    let text =
      "# T\r\n~~~~ dbal-experiment extra words\r\nacquisitions: bald\r\nmodels: bayesian\r\n"
      + "~~~~\r\n````swift\r\n```\r\nlet x = 1\r\n````\r\n"
    let document = try NotebookDocument(parsing: text, fileName: "t.md")
    #expect(document.title == "T")
    #expect(document.experiment.line == 2)
    guard case .prose(let code) = document.blocks.last else {
      Issue.record("expected trailing prose")
      return
    }
    #expect(code.segments == [.text("````swift\n```\nlet x = 1\n````\n")])
  }

  // MARK: - Inline values

  @Test func splitsProseIntoTextAndValues() throws {
    let document = try NotebookDocument(parsing: NotebookFixtures.figure2, fileName: "fig2.md")
    #expect(
      document.valueReferences == [
        ValueReference(name: "rounds", line: 4),
        ValueReference(name: "repetitions", line: 4),
        ValueReference(name: "profile", line: 4),
        ValueReference(name: "final.mc.bald.bayesian", line: 26),
        ValueReference(name: "final.mc.bald.deterministic", line: 27),
      ]
    )
    guard case .prose(let prose) = document.blocks[4] else {
      Issue.record("expected prose")
      return
    }
    #expect(
      prose.segments == [
        .text("\nBALD reaches "),
        .value(ValueReference(name: "final.mc.bald.bayesian", line: 26)),
        .text(" with MC dropout and\n"),
        .value(ValueReference(name: "final.mc.bald.deterministic", line: 27)),
        .text(
          " without.\n\n```sh\npipeline reproduce fig2  # {{not a value}} inside code\n```\n\n"
        ),
      ]
    )
  }

  @Test func leavesInlineCodeSpansAlone() throws {
    let text =
      "```dbal-experiment\nacquisitions: bald\nmodels: bayesian\n```\n"
      + "Write `{{value NAME}}` or ``{{ x }}`` to insert {{value rounds}}; a lone ` is text.\n"
    let document = try NotebookDocument(parsing: text, fileName: "c.md")
    #expect(document.valueReferences == [ValueReference(name: "rounds", line: 5)])
  }

  @Test(arguments: ["{{ value  a.b-c_1 }}", "{{value a.b-c_1}}", "{{\tvalue a.b-c_1}}"])
  func toleratesSpacesInsideValueReferences(_ reference: String) throws {
    let text = "```dbal-experiment\nacquisitions: bald\nmodels: bayesian\n```\nx \(reference) y\n"
    let document = try NotebookDocument(parsing: text, fileName: "v.md")
    #expect(document.valueReferences == [ValueReference(name: "a.b-c_1", line: 5)])
  }
}

@Suite struct FigureMetricParsingTests {
  static func metric(_ value: String) throws -> MetricSelection? {
    let text =
      "```dbal-experiment\nacquisitions: bald\nmodels: bayesian, deterministic\n```\n"
      + "```dbal-figure\nid: f\npanels: none\nseries: model\nmetric: \(value)\n```\n"
    return try NotebookDocument(parsing: text, fileName: "m.md").figures.first?.metric
  }

  @Test func naturalAndPerModelMetricsParse() throws {
    let natural = try #require(try Self.metric("natural"))
    #expect(natural.metric(for: .mcDropout) == .mc)
    #expect(natural.metric(for: .deterministic) == .deterministic)
    #expect(try Self.metric("mc for bayesian, deterministic for deterministic") == natural)
    let flipped = try #require(try Self.metric("deterministic for bayesian"))
    #expect(flipped.metric(for: .mcDropout) == .deterministic)
    #expect(flipped.metric(for: .deterministic) == .mc, "models not named use mc")
    #expect(try Self.metric("deterministic") == .uniform(.deterministic))
  }

  @Test(arguments: [
    ("best", "'mc', 'deterministic', 'natural'"),
    ("mc for frequentist", "a model among 'bayesian', 'deterministic', 'ensemble'"),
    ("mcdropout for bayesian", "a metric among 'mc', 'deterministic'"),
    ("mc for bayesian, deterministic for bayesian", "each model named at most once"),
    ("mc bayesian", "'mc', 'deterministic', 'natural'"),
  ])
  func badMetricsNameTheLineTheValueAndTheAcceptedOnes(value: String, expected: String) {
    #expect {
      _ = try Self.metric(value)
    } throws: { error in
      let text = "\(error)"
      return text.hasPrefix("m.md:9:") && text.contains(expected)
    }
  }
}
