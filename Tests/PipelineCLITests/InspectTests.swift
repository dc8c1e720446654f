import Experiments
import Foundation
import Testing

extension EndToEndTests {
  @Test("inspect renders a round's page from the cache, computing only the inspect stage")
  func inspectRendersTheAcquiredImagesOfTheCachedRound() throws {
    let fixture = try CLIFixture.shared()
    let workspace = try fixture.workspace(copying: fixture.reference, "inspect")
    defer { fixture.discard(workspace) }
    let run = try PipelineProcess.run(
      ["inspect", "fig2", "--profile", "smoke", "--cell", "bald.bayesian.r0", "--round", "0"]
        + workspace.renderArguments
    )
    try #require(run.succeeded, "\(run)")
    // Everything upstream was cached: the only new entry is the inspection.
    let after = try CacheSnapshot(workspace)
    let added = Set(after.entries.keys).subtracting(fixture.referenceCache.entries.keys)
    #expect(
      added.map { after.entries[$0]!.stageID } == ["cells/bald.bayesian.r0/round-000/inspect"]
    )
    let folder = workspace.reportsDirectory.appendingPathComponent("inspect")
    let html = try String(
      contentsOf: folder.appendingPathComponent("fig2-smoke-bald.bayesian.r0-r0.html"),
      encoding: .utf8
    )
    #expect(
      FileManager.default.fileExists(
        atPath: folder.appendingPathComponent("fig2-smoke-bald.bayesian.r0-r0.md").path
      )
    )
    // The gallery: exactly the acquired images of the cached acquire stage, in its order.
    let acquire = try #require(
      fixture.referenceCache.entries.first {
        $0.value.stageID == "cells/bald.bayesian.r0/round-000/acquire"
      }
    )
    let labelled = try LabelledSet(
      contentsOf: fixture.reference.dataDirectory.appendingPathComponent(
        "cache/entries/\(acquire.key.prefix(2))/\(acquire.key)/labelled.h5"
      )
    )
    let cards = html.matches(of: /<div class="card acquired" data-index="(\d+)">/)
      .map { Int($0.output.1)! }
    #expect(!cards.isEmpty && cards == labelled.acquired)
    for forbidden in ["<script", "http", "<link", "@import", "url("] {
      #expect(!html.contains(forbidden), "found \(forbidden)")
    }
    // Nothing was written into the repository's Reports/.
    #expect(run.standardOutput.contains(folder.path))
  }

  @Test("inspect of a round not computed yet refuses and names the command that computes it")
  func inspectRefusesARoundNotComputedYet() throws {
    let fixture = try CLIFixture.shared()
    let workspace = try fixture.emptyWorkspace("inspect-uncomputed")
    defer { fixture.discard(workspace) }
    let run = try PipelineProcess.run(
      ["inspect", "fig2", "--profile", "smoke", "--cell", "bald.bayesian.r0", "--round", "1"]
        + workspace.renderArguments
    )
    #expect(!run.succeeded)
    #expect(run.standardError.contains("round 1 of bald.bayesian.r0 has not been computed yet"))
    #expect(run.standardError.contains("reproduce fig2 --profile smoke --cells bald.bayesian.r0"))
    // Nothing was computed, not even the download: the data directory was not even created.
    #expect(!FileManager.default.fileExists(atPath: workspace.dataDirectory.path))
  }
}
