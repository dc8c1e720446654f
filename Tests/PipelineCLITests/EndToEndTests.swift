import Foundation
import Testing

/// `pipeline reproduce fig2 --profile smoke` end to end, and the report promises: all four
/// targets render, the same cache renders byte-identical reports, the HTML holds the figure
/// and provenance.
@Suite(
  "End to end",
  .enabled(if: TortureSettings.hasMNIST, TortureSettings.noMNIST),
  .timeLimit(.minutes(10))
)
struct EndToEndTests {
  @Test("A smoke run of fig2 completes cleanly and a rerun computes nothing")
  func smokeRunCompletes() throws {
    let fixture = try CLIFixture.shared()
    let reference = fixture.referenceCache
    #expect(reference.entries.count > 10, "a smoke fig2 run commits its stages")
    #expect(reference.temporaryLeftovers.isEmpty)
    #expect(reference.uncommittedEntries.isEmpty)
    #expect(reference.quarantined.isEmpty)

    let workspace = try fixture.workspace(copying: fixture.reference, "rerun")
    defer { fixture.discard(workspace) }
    let rerun = try PipelineProcess.run(CLIFixture.smokeFig2(workspace))
    #expect(rerun.succeeded, "\(rerun)")
    #expect(
      rerun.executedStages == 0,
      "a finished target recomputes nothing: \(rerun.standardError)"
    )
    #expect(try CacheSnapshot(workspace) == reference)

    let status = try PipelineProcess.run(
      ["status", "fig2", "--profile", "smoke"] + workspace.dataArguments
    )
    #expect(status.succeeded, "\(status)")
    #expect(status.standardOutput.contains("nothing to do"))
  }

  @Test("The same cache renders byte-identical reports with figure and provenance")
  func reportIsStable() throws {
    let fixture = try CLIFixture.shared()
    let workspace = try fixture.workspace(copying: fixture.reference, "report")
    defer { fixture.discard(workspace) }
    let arguments = ["report", "fig2", "--profile", "smoke"] + workspace.renderArguments
    let first = try PipelineProcess.run(arguments)
    try #require(first.succeeded, "\(first)")
    let firstReport = try ReportSnapshot(workspace, report: "fig2-smoke")
    let second = try PipelineProcess.run(arguments)
    try #require(second.succeeded, "\(second)")
    let secondReport = try ReportSnapshot(workspace, report: "fig2-smoke")
    #expect(firstReport == secondReport, "two renders of one cache must be byte-identical")
    #expect(firstReport.hasSameResults(as: fixture.referenceReport))

    let html = firstReport.html
    #expect(
      html.contains("fig2-smoke/fig2.svg") || html.contains("<svg"),
      "the HTML shows the figure"
    )
    #expect(html.contains("id=\"provenance\""), "the HTML has a provenance section")
    #expect(html.contains("Parameters digest"))
    #expect(firstReport.assets.keys.contains("fig2.svg"))
    #expect(firstReport.assets.keys.contains("fig2.csv"))
  }

  @Test("The smoke profile renders every target", arguments: ["fig1", "table1", "table2"])
  func everyTargetRenders(target: String) throws {
    let fixture = try CLIFixture.shared()
    let workspace = try fixture.workspace(copying: fixture.base, target)
    defer { fixture.discard(workspace) }
    let run = try PipelineProcess.run(
      ["reproduce", target, "--profile", "smoke", "--quiet"] + workspace.renderArguments
    )
    try #require(run.succeeded, "\(run)")
    let report = try ReportSnapshot(workspace, report: "\(target)-smoke")
    #expect(report.markdown.contains("## Provenance"))
    #expect(report.html.contains("id=\"provenance\""))
    if target.hasPrefix("fig") {
      #expect(!report.assets.isEmpty, "\(target) writes its figure files")
    } else {
      #expect(report.markdownBody.contains("| ---"), "\(target) renders its table")
    }
    #expect(try CacheSnapshot(workspace).temporaryLeftovers.isEmpty)
  }
}
