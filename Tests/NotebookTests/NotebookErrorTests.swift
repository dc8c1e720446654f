import Foundation
import Notebook
import Testing

@Suite struct NotebookErrorTests {
  /// A broken document, the line its error must point at, and the expected problem.
  struct BrokenDocument: CustomTestStringConvertible, Sendable {
    let name: String
    let text: String
    let line: Int
    let problem: NotebookError.Problem
    var testDescription: String { name }
  }

  static let experiment = "```dbal-experiment\nacquisitions: bald\nmodels: bayesian\n```\n"

  static let brokenDocuments: [BrokenDocument] = [
    BrokenDocument(
      name: "unknown key",
      text: experiment + "```dbal-figure\nid: f\npanel: acquisition\n```\n",
      line: 7,
      problem: .unknownKey(
        key: "panel",
        block: .figure,
        allowed: ["id", "panels", "series", "metric", "title", "caption", "label"]
      )
    ),
    BrokenDocument(
      name: "missing required key",
      text: "# T\n\n" + experiment + "\n```dbal-figure\nid: f\npanels: none\n```\n",
      line: 8,
      problem: .missingKey(key: "series", block: .figure)
    ),
    BrokenDocument(
      name: "bad acquisition",
      text: "```dbal-experiment\nacquisitions: bald, bold\nmodels: bayesian\n```\n",
      line: 2,
      problem: .invalidValue(
        key: "acquisitions",
        value: "bold",
        expected: "a comma-separated list of one of 'bald', 'var-ratios', 'var-ratios-mean',"
          + " 'max-entropy', 'mean-std', 'random', 'mbr', 'batchbald'"
      )
    ),
    BrokenDocument(
      name: "bad model",
      text: "```dbal-experiment\nacquisitions: bald\nmodels: bayesian, frequentist\n```\n",
      line: 3,
      problem: .invalidValue(
        key: "models",
        value: "frequentist",
        expected:
          "a comma-separated list of one of 'bayesian', 'deterministic', 'ensemble', 'harmonic'"
      )
    ),
    BrokenDocument(
      name: "bad repetitions",
      text: "```dbal-experiment\nacquisitions: bald\nmodels: bayesian\nrepetitions: 0\n```\n",
      line: 4,
      problem: .invalidValue(
        key: "repetitions",
        value: "0",
        expected: "a whole number of at least 1"
      )
    ),
    BrokenDocument(
      name: "bad override",
      text: "```dbal-experiment\nacquisitions: bald\nmodels: bayesian\nset: epochs\n```\n",
      line: 4,
      problem: .invalidValue(
        key: "set",
        value: "epochs",
        expected: "comma-separated 'name=value' pairs"
      )
    ),
    BrokenDocument(
      name: "bad metric",
      text: experiment + "```dbal-figure\nid: f\npanels: none\n"
        + "series: model\nmetric: bayes\n```\n",
      line: 9,
      problem: .invalidValue(
        key: "metric",
        value: "bayes",
        expected: "'mc', 'deterministic', 'natural' (each model's own: MC for bayesian, dropout"
          + " off for deterministic) or per model, e.g. 'mc for bayesian, deterministic for"
          + " deterministic'"
      )
    ),
    BrokenDocument(
      name: "bad error threshold",
      text: experiment + "```dbal-table\nid: t\nkind: acquired-to-error\nerrors: 10, 150\n```\n",
      line: 8,
      problem: .invalidValue(
        key: "errors",
        value: "150",
        expected: "test errors in percent between 0 and 100, such as '10, 5'"
      )
    ),
    BrokenDocument(
      name: "bad id",
      text: experiment + "```dbal-table\nid: ../etc\nkind: error-at-end\n```\n",
      line: 6,
      problem: .invalidValue(
        key: "id",
        value: "../etc",
        expected: "an id of ASCII letters, digits, '-' and '_' (it names asset files)"
      )
    ),
    BrokenDocument(
      name: "line without colon",
      text: experiment + "```dbal-figure\nid f\n```\n",
      line: 6,
      problem: .malformedLine(text: "id f")
    ),
    BrokenDocument(
      name: "duplicate key",
      text:
        "```dbal-experiment\nacquisitions: bald\nmodels: bayesian\n# note\nmodels: bayesian\n```",
      line: 5,
      problem: .duplicateKey(key: "models", block: .experiment, firstLine: 3)
    ),
    BrokenDocument(
      name: "unterminated dbal fence",
      text: experiment + "text\n```dbal-figure\nid: f\n",
      line: 6,
      problem: .unterminatedFence(fence: "```")
    ),
    BrokenDocument(
      name: "unterminated ordinary fence",
      text: experiment + "\n~~~~python\nprint(1)\n~~~\n",
      line: 6,
      problem: .unterminatedFence(fence: "~~~~")
    ),
    BrokenDocument(
      name: "unknown dbal block",
      text: experiment + "```dbal-plot\nid: f\n```\n",
      line: 5,
      problem: .unknownBlockKind(kind: "dbal-plot")
    ),
    BrokenDocument(
      name: "duplicate id",
      text: experiment + "```dbal-figure\nid: x\npanels: none\nseries: model\n```\n"
        + "```dbal-table\nid: x\nkind: error-at-end\n```\n",
      line: 10,
      problem: .duplicateID(id: "x", firstLine: 5)
    ),
    BrokenDocument(
      name: "missing experiment",
      text: "# Title\n\nJust prose.\n",
      line: 1,
      problem: .missingExperiment
    ),
    BrokenDocument(
      name: "duplicate experiment",
      text: experiment + "\n" + experiment,
      line: 6,
      problem: .duplicateBlock(block: .experiment, firstLine: 1)
    ),
    BrokenDocument(
      name: "duplicate provenance",
      text: experiment + "```dbal-provenance\n```\n```dbal-provenance\n```\n",
      line: 7,
      problem: .duplicateBlock(block: .provenance, firstLine: 5)
    ),
    BrokenDocument(
      name: "keys in provenance",
      text: experiment + "```dbal-provenance\nwhere: end\n```\n",
      line: 6,
      problem: .unknownKey(key: "where", block: .provenance, allowed: [])
    ),
    BrokenDocument(
      name: "unterminated value",
      text: experiment + "a\nAccuracy {{value final.mc\n",
      line: 6,
      problem: .malformedValueReference(text: "{{value final.mc")
    ),
    BrokenDocument(
      name: "value without name",
      text: "x {{value}}\n" + experiment,
      line: 1,
      problem: .malformedValueReference(text: "{{value}}")
    ),
    BrokenDocument(
      name: "unknown directive",
      text: experiment + "{{figure f}}\n",
      line: 5,
      problem: .malformedValueReference(text: "{{figure f}}")
    ),
    BrokenDocument(
      name: "bad value name",
      text: experiment + "{{value a/b}}\n",
      line: 5,
      problem: .malformedValueReference(text: "{{value a/b}}")
    ),
  ]

  @Test(arguments: brokenDocuments)
  func reportsTheOffendingLine(_ broken: BrokenDocument) {
    #expect(
      throws: NotebookError(file: "broken.md", line: broken.line, problem: broken.problem)
    ) {
      try NotebookDocument(parsing: broken.text, fileName: "broken.md")
    }
  }

  @Test func descriptionsLocateAndExplain() {
    let unknown = NotebookError(
      file: "fig2.md",
      line: 14,
      problem: .unknownKey(key: "panel", block: .figure, allowed: ["id", "panels"])
    )
    #expect(
      unknown.description
        == "fig2.md:14: unknown key 'panel' in dbal-figure block; allowed keys: id, panels"
    )
    let missing = NotebookError(
      file: "fig2.md",
      line: 3,
      problem: .missingKey(key: "models", block: .experiment)
    )
    #expect(missing.description.hasPrefix("fig2.md:3: "))
    #expect(missing.description.contains("add 'models: ...'"))
  }

  @Test func unreadableFilesNameThePath() {
    let url = URL(fileURLWithPath: "/nonexistent/dbal/fig9.md")
    do {
      _ = try NotebookDocument(contentsOf: url)
      Issue.record("expected an error")
    } catch {
      #expect(error.file == "/nonexistent/dbal/fig9.md")
      guard case .unreadable = error.problem else {
        Issue.record("expected .unreadable, got \(error.problem)")
        return
      }
    }
  }
}
