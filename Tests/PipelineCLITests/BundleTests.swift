import Experiments
import Foundation
import PipelineCore
import Testing

/// Result bundles: export, import into another data directory, continue, prune and restore;
/// a damaged bundle changes nothing; an interrupted import leaves whole entries only.
@Suite(
  "Result bundles",
  .enabled(if: TortureSettings.hasMNIST, TortureSettings.noMNIST),
  .timeLimit(.minutes(10))
)
struct BundleTests {
  /// Exports the smoke fig2 cells matching `cells` of `workspace` into a fresh folder.
  static func export(_ workspace: URL, cells: String? = nil) throws -> URL {
    let folder = workspace.appendingPathComponent("bundles-\(UUID().uuidString.prefix(6))")
    let run = try PipelineProcess.run(
      ["export", "fig2", "--profile", "smoke", "--output", folder.path, "--quiet"]
        + (cells.map { ["--cells", $0] } ?? []) + workspace.dataArguments
    )
    try #require(run.succeeded, "\(run)")
    return folder
  }

  /// The names of the bundles in `folder` that carry a model, sorted.
  static func modelCarriers(_ folder: URL) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted().filter { name in
      try ResultBundle(contentsOf: folder.appendingPathComponent(name)).entries.contains {
        $0.artifacts["model"] != nil
      }
    }
  }

  @Test("Export, then import into an empty data dir, renders the same report without computing")
  func exportImportRender() throws {
    let fixture = try CLIFixture.shared()
    let source = try fixture.workspace(copying: fixture.reference, "export")
    defer { fixture.discard(source) }
    let bundles = try Self.export(source)
    let files = try FileManager.default.contentsOfDirectory(atPath: bundles.path).sorted()
    #expect(files.count == 6 && files.allSatisfy { $0.hasSuffix(".r0.h5") }, "\(files)")
    for file in files {
      let size = try #require(
        try FileManager.default.attributesOfItem(atPath: bundles.appendingPathComponent(file).path)[
          .size
        ] as? Int
      )
      #expect(size < 100_000, "\(file) is \(size) bytes: models must not travel by default")
    }
    let target = try fixture.emptyWorkspace("import")
    defer { fixture.discard(target) }
    let imported = try PipelineProcess.run(["import", bundles.path] + target.dataArguments)
    try #require(imported.succeeded, "\(imported)")
    let report = try PipelineProcess.run(
      ["report", "fig2", "--profile", "smoke"] + target.renderArguments
    )
    try #require(report.succeeded, "\(report)")
    #expect(
      try ReportSnapshot(target, report: "fig2-smoke").hasSameResults(as: fixture.referenceReport)
    )
    // The source files' digests travel with the download stage's key: the provenance lists
    // them as the local run's does.
    let markdown = try String(
      contentsOf: target.reportsDirectory.appendingPathComponent("fig2-smoke.md"),
      encoding: .utf8
    )
    for (name, sha256) in MNISTSources.digests {
      #expect(markdown.contains("| \(name) | `\(sha256)` |"), "\(name)")
    }
    // Imported entries are recorded: gc keeps them.
    let gc = try PipelineProcess.run(["gc"] + target.dataArguments)
    try #require(gc.succeeded, "\(gc)")
    let afterGC = try PipelineProcess.run(
      ["report", "fig2", "--profile", "smoke"] + target.renderArguments
    )
    try #require(afterGC.succeeded, "\(afterGC)")
    #expect(
      try ReportSnapshot(target, report: "fig2-smoke").hasSameResults(as: fixture.referenceReport)
    )
    // Importing again adds nothing and overwrites nothing.
    let again = try PipelineProcess.run(["import", bundles.path] + target.dataArguments)
    try #require(again.succeeded, "\(again)")
    #expect(again.standardOutput.contains(" 0 entries added"), "\(again.standardOutput)")
    #expect(!again.standardOutput.contains(" 1 entries added"))
  }

  @Test("Half a run imported elsewhere and continued gives the uninterrupted run's results")
  func importAndContinue() throws {
    let fixture = try CLIFixture.shared()
    let half = try fixture.halfRun("half")
    defer { fixture.discard(half) }
    let bundles = try Self.export(half)
    let other = try fixture.workspace(copying: fixture.base, "continue")
    defer { fixture.discard(other) }
    let imported = try PipelineProcess.run(["import", bundles.path] + other.dataArguments)
    try #require(imported.succeeded, "\(imported)")
    // The cells not started yet share repetition 0's round-0 model: the bundles carried it,
    // so the other machine continues from it instead of recomputing it (which on another CPU
    // would differ in the last bits and stop at the digest check). Finished rounds' models
    // stayed behind.
    let models = try CacheSnapshot.modelKeys(other)
    let roundZero = try #require(fixture.roundZeroModelKey)
    #expect(models == [roundZero], "\(models)")
    // It travelled once: in the bundle of the cell that computed it.
    let carriers = try Self.modelCarriers(bundles)
    let computedBy = try #require(try CacheSnapshot(half).entries[roundZero]).stageID
    #expect(carriers == ["\(computedBy.split(separator: "/")[1]).h5"], "\(carriers)")
    let rest = try PipelineProcess.run(CLIFixture.smokeFig2(other))
    try #require(rest.succeeded, "\(rest)")
    #expect(try CacheSnapshot(other).digests == fixture.referenceCache.digests)
    #expect(
      try ReportSnapshot(other, report: "fig2-smoke").hasSameResults(as: fixture.referenceReport)
    )
  }

  @Test("Cells not started, exported without the cell that computed their round-0 model, carry it")
  func unstartedCellsCarryWhatTheyStartFrom() throws {
    let fixture = try CLIFixture.shared()
    let half = try fixture.halfRun("unstarted")
    defer { fixture.discard(half) }
    // Only the Variation Ratios cells (two globs, separated by a comma), which have nothing but
    // the shared round 0: the round-0 model's own cell (a BALD cell, which computed it) is not
    // exported, so one of these must carry it, once.
    let bundles = try Self.export(half, cells: "var-ratios.deterministic.*,var-ratios.bayesian.*")
    let names = try FileManager.default.contentsOfDirectory(atPath: bundles.path).sorted()
    #expect(names == ["var-ratios.bayesian.r0.h5", "var-ratios.deterministic.r0.h5"])
    let roundZero = try #require(fixture.roundZeroModelKey)
    let computedBy = try #require(try CacheSnapshot(half).entries[roundZero]).stageID
    let computer = String(computedBy.split(separator: "/")[1])
    #expect(computer.hasPrefix("bald."), "\(computedBy)")
    // The other BALD cell, finished, exported alone: it reads no round-0 model any more, so it
    // carries none for the cells that have not started.
    let other = try #require(
      ["bald.bayesian.r0", "bald.deterministic.r0"].first { $0 != computer }
    )
    let alone = try ResultBundle(
      contentsOf: try Self.export(half, cells: other).appendingPathComponent("\(other).h5")
    )
    #expect(!alone.entries.contains { $0.artifacts["model"] != nil }, "\(other) carries a model")
    let carriers = try Self.modelCarriers(bundles)
    #expect(carriers == ["var-ratios.bayesian.r0.h5"], "\(carriers)")
    // Another machine holding only these bundles computes the Variation Ratios cells from the
    // carried model, and gets the uninterrupted run's entries.
    let elsewhere = try fixture.workspace(copying: fixture.base, "unstarted-continue")
    defer { fixture.discard(elsewhere) }
    let imported = try PipelineProcess.run(["import", bundles.path] + elsewhere.dataArguments)
    try #require(imported.succeeded, "\(imported)")
    // Round 0 alone, shared by every cell, is no result of any cell: nothing to report yet.
    let report = try PipelineProcess.run(
      ["report", "fig2", "--profile", "smoke"] + elsewhere.renderArguments
    )
    #expect(!report.succeeded && report.standardError.contains("beyond the shared round 0"))
    let models = try CacheSnapshot.modelKeys(elsewhere)
    #expect(models == [roundZero], "\(models)")
    let rest = try PipelineProcess.run(
      CLIFixture.smokeFig2(elsewhere, ["--cells", "var-ratios.*"])
    )
    try #require(rest.succeeded, "\(rest)")
    let computed = try CacheSnapshot(elsewhere).digests
    let reference = fixture.referenceCache.digests
    #expect(computed.count > models.count)
    for (key, digest) in computed { #expect(reference[key] == digest, "\(key)") }
  }

  @Test("Pruned models are recomputed, verified against their digests and restored")
  func prunedModelsAreRestored() throws {
    let fixture = try CLIFixture.shared()
    let workspace = try fixture.workspace(copying: fixture.reference, "prune")
    defer { fixture.discard(workspace) }
    let pruned = try PipelineProcess.run(["gc", "--prune", "models"] + workspace.dataArguments)
    try #require(pruned.succeeded, "\(pruned)")
    #expect(pruned.standardOutput.contains("pruned model of"), "\(pruned.standardOutput)")
    #expect(try CacheSnapshot.modelKeys(workspace).isEmpty)
    // The report and a rerun need no model: nothing is computed.
    let rerun = try PipelineProcess.run(CLIFixture.smokeFig2(workspace))
    try #require(rerun.succeeded, "\(rerun)")
    #expect(rerun.executedStages == 0, "\(rerun)")
    // Replay recomputes the pruned model of round 1 and compares it with the recorded digest.
    let replay = try PipelineProcess.run(
      ["replay", "fig2", "--profile", "smoke", "--cell", "bald.bayesian.r0", "--round", "1"]
        + workspace.dataArguments
    )
    try #require(replay.succeeded, "\(replay)")
    #expect(replay.standardOutput.contains("round-001/train model: verified (bit-identical"))
    // The round's calibrate stage (the smoke profile calibrates every round) is replayed too.
    #expect(
      replay.standardOutput.contains("round-001/calibrate calibration: verified (bit-identical"),
      "\(replay.standardOutput)"
    )
    // A new evaluation needs the models: they are restored, and match the reference.
    let evaluated = try PipelineProcess.run(
      CLIFixture.smokeFig2(workspace, ["--set", "test-mc-samples=3"])
    )
    try #require(evaluated.succeeded, "\(evaluated)")
    #expect(try !CacheSnapshot.modelKeys(workspace).isEmpty)
    let cache = try CacheSnapshot(workspace)
    for (key, entry) in fixture.referenceCache.entries {
      #expect(cache.entries[key]?.outputs == entry.outputs, "\(entry.stageID)")
    }
  }

  @Test("A bundle that carries models fills in the pruned models of a local thin entry")
  func importFillsPrunedEntries() throws {
    let fixture = try CLIFixture.shared()
    let thin = try fixture.workspace(copying: fixture.reference, "thin")
    defer { fixture.discard(thin) }
    let pruned = try PipelineProcess.run(["gc", "--prune", "models"] + thin.dataArguments)
    try #require(pruned.succeeded, "\(pruned)")
    let folder = thin.appendingPathComponent("with-models")
    let exported = try PipelineProcess.run(
      [
        "export", "fig2", "--profile", "smoke", "--cells", "bald.bayesian.r0", "--include",
        "models", "--output", folder.path, "--quiet",
      ] + fixture.reference.dataArguments
    )
    try #require(exported.succeeded, "\(exported)")
    let imported = try PipelineProcess.run(["import", folder.path] + thin.dataArguments)
    try #require(imported.succeeded, "\(imported)")
    let models = try CacheSnapshot.modelKeys(thin)
    #expect(models.count == 3, "the cell's three rounds get their models back: \(models)")
    #expect(try CacheSnapshot(thin).digests == fixture.referenceCache.digests)
  }

  @Test("A damaged or foreign bundle is refused and the cache is untouched")
  func badBundlesChangeNothing() throws {
    let fixture = try CLIFixture.shared()
    let source = try fixture.workspace(copying: fixture.reference, "tamper")
    defer { fixture.discard(source) }
    let bundles = try Self.export(source, cells: "bald.bayesian.r0")
    let bundle = bundles.appendingPathComponent("bald.bayesian.r0.h5")
    let target = try fixture.workspace(copying: fixture.base, "tampered")
    defer { fixture.discard(target) }
    let before = try CacheSnapshot(target)

    let foreign = try PipelineProcess.run(
      ["import", bundle.path, "--target", "fig1"] + target.dataArguments
    )
    expectFailure(foreign, mentioning: ["bald.bayesian.r0.h5", "target 'fig2', not 'fig1'"])
    // A target that does not exist at all is a typo: named as such, with the known targets.
    let typo = try PipelineProcess.run(
      ["import", bundle.path, "--target", "fig22"] + target.dataArguments
    )
    expectFailure(typo, mentioning: ["unknown target \"fig22\"", "fig1, fig2, fig3"])
    #expect(!typo.standardError.contains("not 'fig22'"), "\(typo.standardError)")

    var bytes = try Data(contentsOf: bundle)
    let truncated = bundles.appendingPathComponent("truncated.h5")
    try bytes.prefix(bytes.count / 2).write(to: truncated)
    let cut = try PipelineProcess.run(["import", truncated.path] + target.dataArguments)
    expectFailure(
      cut,
      mentioning: [
        "truncated.h5: it is truncated: \(bytes.count / 2) of its \(bytes.count) bytes are there",
        "copy it again, or re-export it with `pipeline export`", "Nothing was imported",
      ]
    )

    // Not HDF5 at all: one sentence naming the file once, with the fix that fits a bundle.
    let text = bundles.appendingPathComponent("notes.h5")
    try Data("not a bundle\n".utf8).write(to: text)
    let foreignFile = try PipelineProcess.run(["import", text.path] + target.dataArguments)
    expectFailure(
      foreignFile,
      mentioning: [
        "notes.h5: it is not an HDF5 file, so not a result bundle",
        "copy it again, or re-export it with `pipeline export`",
      ]
    )
    #expect(
      foreignFile.standardError.components(separatedBy: text.path).count == 2,
      "the path is named once: \(foreignFile.standardError)"
    )
    #expect(!foreignFile.standardError.contains("delete it"), "\(foreignFile.standardError)")

    for position in (1...9).map({ $0 * bytes.count / 10 }) { bytes[position] ^= 0x5A }
    let tampered = bundles.appendingPathComponent("tampered.h5")
    try bytes.write(to: tampered)
    let damaged = try PipelineProcess.run(["import", tampered.path] + target.dataArguments)
    expectFailure(damaged, mentioning: ["tampered.h5", "Nothing was imported"])

    #expect(try CacheSnapshot(target).digests == before.digests)
  }

  @Test("A bundle of other parameters is imported with a note naming both digests")
  func otherParametersDigestIsNoted() throws {
    let fixture = try CLIFixture.shared()
    let bundles = try Self.export(fixture.reference, cells: "bald.bayesian.r0")
    defer { try? FileManager.default.removeItem(at: bundles) }
    let current = bundles.appendingPathComponent("bald.bayesian.r0.h5")
    var bundle = try ResultBundle(contentsOf: current)
    let ours = try #require(bundle.metadata["parameters_digest"])
    // The same entries, as an older binary (before a parameter with a default) labels them.
    let older = bundles.appendingPathComponent("older").appendingPathComponent("cell.h5")
    bundle.metadata["parameters_digest"] = String(repeating: "0f", count: 32)
    try bundle.write(to: older)

    let target = try fixture.emptyWorkspace("digest")
    defer { fixture.discard(target) }
    let same = try PipelineProcess.run(["import", current.path] + target.dataArguments)
    try #require(same.succeeded, "\(same)")
    #expect(!same.standardOutput.contains("parameters digest"), "\(same.standardOutput)")

    let other = try PipelineProcess.run(["import", older.path] + target.dataArguments)
    try #require(other.succeeded, "entries are verified by their keys: \(other)")
    #expect(
      other.standardOutput.contains(
        "note: 1 bundle of fig2 (profile smoke) carries parameters digest 0f0f0f0f, this "
          + "code's is \(ours.prefix(8))"
      ),
      "\(other.standardOutput)"
    )
    #expect(other.standardOutput.contains("each entry's cache key is verified on its own"))
    #expect(other.standardOutput.contains(" 0 entries added"), "\(other.standardOutput)")
  }

  @Test("status and the report count a cell's progress alike: its rounds evaluated")
  func statusCountsLikeTheReport() throws {
    let fixture = try CLIFixture.shared()
    let bundles = try Self.export(fixture.reference, cells: "bald.bayesian.r0")
    defer { try? FileManager.default.removeItem(at: bundles) }
    // One finished cell: the other cells of repetition 0 share its evaluated round 0 only.
    let target = try fixture.emptyWorkspace("progress")
    defer { fixture.discard(target) }
    let imported = try PipelineProcess.run(["import", bundles.path] + target.dataArguments)
    try #require(imported.succeeded, "\(imported)")
    let status = try PipelineProcess.run(
      ["status", "fig2", "--profile", "smoke"] + target.dataArguments
    )
    try #require(status.succeeded, "\(status)")
    let report = try PipelineProcess.run(
      ["report", "fig2", "--profile", "smoke"] + target.renderArguments
    )
    try #require(report.succeeded, "\(report)")
    let markdown = try ReportSnapshot(target, report: "fig2-smoke").markdown
    // The report's progress table: "> | `cell` | done / total | percent |".
    var reported: [String: String] = [:]
    for match in markdown.matches(of: #/\| `([a-z.\-0-9]+)` \| ([0-9]+) / ([0-9]+) \|/#) {
      reported[String(match.1)] = "\(match.2)/\(match.3)"
    }
    var stated: [String: String] = [:]
    for line in status.standardOutput.split(separator: "\n") {
      let words = line.split(separator: " ", omittingEmptySubsequences: true)
      guard words.count >= 4, reported[String(words[0])] != nil else { continue }
      if words[1] == "cached" {
        stated[String(words[0])] = "3/3"  // "cached (all 3 rounds)"
        #expect(line.hasSuffix("(all 3 rounds)"), "\(line)")
      } else if words[2] == "rounds", words[3].hasPrefix("evaluated") {
        stated[String(words[0])] = String(words[1])
      }
    }
    #expect(reported.count == 6, "\(markdown)")
    #expect(stated == reported, "status:\n\(status.standardOutput)\nreport:\n\(markdown)")
    #expect(reported["bald.bayesian.r0"] == "3/3")
    #expect(reported["max-entropy.bayesian.r0"] == "1/3", "round 0 is shared: \(reported)")
  }

  @Test("A partial report rendered from bundles says to import their folders to continue")
  func partialReportFromBundlesSaysImportFirst() throws {
    let fixture = try CLIFixture.shared()
    let target = try fixture.emptyWorkspace("beside")
    defer { fixture.discard(target) }
    // Cells brought by bundles from two folders (as Table 1 takes its BALD cells from the
    // fig2 bundles): the command imports both.
    var folders: [URL] = []
    for (cell, folder) in [("bald.bayesian.r0", "fig2/smoke"), ("bald.deterministic.r0", "x/y")] {
      let bundles = target.reportsDirectory.appendingPathComponent(folder)
      let exported = try PipelineProcess.run(
        ["export", "fig2", "--profile", "smoke", "--cells", cell, "--output", bundles.path]
          + ["--quiet"] + fixture.reference.dataArguments
      )
      try #require(exported.succeeded, "\(exported)")
      let imported = try PipelineProcess.run(["import", bundles.path] + target.dataArguments)
      try #require(imported.succeeded, "\(imported)")
      folders.append(bundles)
    }
    let report = try PipelineProcess.run(
      ["report", "fig2", "--profile", "smoke"] + target.renderArguments
    )
    try #require(report.succeeded, "\(report)")
    let markdown = try ReportSnapshot(target, report: "fig2-smoke").markdown
    // A reader of the report may have the bundles only: the command imports them first.
    let paths = folders.map(\.path).sorted().joined(separator: " ")
    let data = "--data-dir \(target.dataDirectory.path)"
    #expect(
      markdown.contains(
        "`pipeline import \(paths) \(data) && pipeline reproduce fig2 --profile smoke \(data)`"
      ),
      "\(markdown.prefix(600))"
    )
  }

  @Test("SIGKILL during import leaves whole entries only; importing again completes it")
  func killDuringImport() throws {
    let fixture = try CLIFixture.shared()
    let source = try fixture.workspace(copying: fixture.reference, "kill-import-source")
    defer { fixture.discard(source) }
    let bundles = try Self.export(source)
    var generator = SplitMix64(seed: TortureSettings.seed)
    for attempt in 0..<3 {
      let target = try fixture.workspace(copying: fixture.base, "kill-import-\(attempt)")
      defer { fixture.discard(target) }
      let run = try PipelineProcess(["import", bundles.path] + target.dataArguments)
      run.sleep(upTo: Double.random(in: 0.02...0.4, using: &generator))
      _ = run.send(SIGKILL)
      _ = try run.wait()
      let partial = try CacheSnapshot(target)
      for (key, entry) in partial.entries {
        #expect(
          fixture.referenceCache.entries[key]?.outputs == entry.outputs,
          "a committed entry is whole: \(entry.stageID)"
        )
      }
      let again = try PipelineProcess.run(["import", bundles.path] + target.dataArguments)
      try #require(again.succeeded, "\(again)")
      let complete = try CacheSnapshot(target)
      #expect(complete.digests == fixture.referenceCache.digests)
      #expect(complete.temporaryLeftovers.isEmpty, "\(complete.temporaryLeftovers)")
    }
  }
}
