import ArgumentParser
import Foundation
import PipelineCore
import Reports

/// `pipeline gc`: remove cache entries no recorded run uses; forget runs only when told to.
struct GarbageCollect: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "gc",
    abstract: "Remove cache entries that no recorded run uses.",
    discussion: """
      Every recorded run (each target, profile, set of --set overrides and --cells part, and \
      each imported bundle) keeps its entries until you forget it with --forget or \
      --keep-latest. Use --dry-run to see the recorded runs and what would be removed.
      """
  )

  @Flag(help: "Say what would be removed, run by run, without removing anything.")
  var dryRun = false

  @Option(
    name: .customLong("forget"),
    help: ArgumentHelp(
      "Forget this recorded run (a name that --dry-run lists; repeatable) and remove what only "
        + "it used.",
      valueName: "run"
    )
  )
  var forget: [String] = []

  @Flag(
    help: ArgumentHelp(
      "For each target and profile, forget the runs of every protocol but the newest one.",
      discussion: """
        Computed runs with other --set overrides (or of an earlier version of a profile) are \
        forgotten; the parts (--cells) of the newest protocol and imported bundles are kept.
        """
    )
  )
  var keepLatest = false

  @Option(
    help: ArgumentHelp(
      "Instead of removing entries, prune these artifacts of every entry: models, scores.",
      discussion: """
        A pruned entry keeps its manifest and digests and still counts as done for reports and \
        for continuing a cell; a stage that needs its bytes recomputes them and verifies them \
        against the recorded digest.
        """
    )
  )
  var prune: String?

  @OptionGroup var data: DataOptions

  func validate() throws {
    if prune != nil && (keepLatest || !forget.isEmpty) {
      throw ValidationError(
        "--prune keeps every entry (it removes heavy artifacts only); run it separately from "
          + "--forget and --keep-latest"
      )
    }
  }

  func run() throws {
    // A mistyped --data-dir holds nothing to collect; creating it would hide the typo.
    try Workspace.requireDataDirectory(data.dataDirectory)
    let console = ConsoleObserver(quiet: data.quiet, showProgress: false, plan: nil)
    let runner = try Workspace.runner(options: data, jobs: 1, observer: console)
    if let prune {
      let names = try HeavyArtifacts.parse(prune, option: "--prune")
      let result = try runner.exclusively {
        try runner.store.pruneAll(names: names, dryRun: dryRun)
      }
      print(
        "\(dryRun ? "would prune" : "pruned") \(names.sorted().joined(separator: ", ")) of "
          + "\(result.entries) entries, \(dryRun ? "would free" : "freed") \(result.bytes) bytes"
      )
      return
    }
    var forgetting = forget
    if keepLatest {
      forgetting += RunGrouping.superseded(runner.recordedRuns()).map(\.name)
        .filter { !forgetting.contains($0) }
    }
    let report = try runner.collectGarbage(dryRun: dryRun, forgetting: forgetting) { name in
      // The provenance that `reproduce` keeps beside the record goes with it, under the same
      // exclusive lock.
      try? FileManager.default.removeItem(at: RecordedRun.url(data.dataDirectory, name))
    }
    print(Self.describe(report), terminator: "")
  }

  /// The report in words: runs kept, runs forgotten with what only they used, then the rest.
  static func describe(_ report: GCReport) -> String {
    let dry = report.isDryRun
    func size(_ items: [GCReport.Item]) -> String {
      TextFormatting.bytes(UInt64(items.reduce(0) { $0 + $1.bytes }))
    }
    func entries(_ count: Int) -> String { count == 1 ? "1 entry" : "\(count) entries" }
    var text = ""
    if report.keptRuns.isEmpty {
      text += "no recorded runs\n"
    } else {
      text +=
        "\(dry ? "keeps" : "kept") \(report.keptRuns.count) recorded run"
        + "\(report.keptRuns.count == 1 ? "" : "s") (forget one with --forget NAME):\n"
      for record in report.keptRuns {
        text += "  \(record.name): \(RunGrouping.describe(record)); \(entries(record.keys.count))\n"
      }
    }
    for run in report.forgottenRuns {
      text +=
        "\(dry ? "would forget" : "forgot") \(run.record.name): "
        + "\(RunGrouping.describe(run.record)); \(dry ? "would remove" : "removed") the "
        + "\(entries(run.entries.count)) only it used (\(size(run.entries)))\n"
    }
    let unreferenced = report.unreferencedEntries
    if !unreferenced.isEmpty {
      var kinds: [String: Int] = [:]
      for item in unreferenced { kinds[item.stageKind ?? "unreadable", default: 0] += 1 }
      text +=
        "\(dry ? "would remove" : "removed") \(entries(unreferenced.count)) that no "
        + "recorded run uses, results of earlier code, parameters or inputs ("
        + kinds.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }
        .joined(separator: ", ") + "): \(size(unreferenced))\n"
    }
    let temporary = report.items.filter { $0.category == .staleTemporary }
    if !temporary.isEmpty {
      text +=
        "\(dry ? "would remove" : "removed") \(temporary.count) temporary folder"
        + "\(temporary.count == 1 ? "" : "s") of ended processes: \(size(temporary))\n"
    }
    let quarantined = report.items.filter { $0.category == .quarantined }
    if !quarantined.isEmpty {
      text +=
        "\(dry ? "would remove" : "removed") \(entries(quarantined.count)) quarantined "
        + "after failing verification: \(size(quarantined))\n"
    }
    text +=
      report.items.isEmpty
      ? "nothing to remove\n"
      : "\(dry ? "would free" : "freed") \(size(report.items)) in all\n"
    return text
  }
}

/// How `gc` groups recorded runs into protocols and says what each run was.
enum RunGrouping {
  /// The records that `--keep-latest` forgets: for each target and profile, the computed runs
  /// of another protocol than the newest *complete* computed run's (a brief, interrupted run of
  /// a new protocol never displaces a finished one; without a complete run nothing of that
  /// target and profile is forgotten). Protocols are compared by the user's parameters that
  /// both records hold (see ``sameProtocol(_:_:)``), not by a digest that changes whenever a
  /// parameter is added. Imported bundles (results brought from elsewhere, forgotten only by
  /// name) and records without labels (earlier versions, `fetch`) are never forgotten this way.
  static func superseded(_ records: [RunRecord]) -> [RunRecord] {
    let computed = records.filter {
      $0.labels["origin"] == "computed" && group($0) != nil && !$0.parameters.isEmpty
    }
    var newest: [String: RunRecord] = [:]  // target + profile -> the newest complete run
    for record in computed.sorted(by: { $0.finishedAt > $1.finishedAt }) where record.isComplete {
      if newest[group(record)!] == nil { newest[group(record)!] = record }
    }
    return computed.filter { record in
      guard let kept = newest[group(record)!] else { return false }
      return !sameProtocol(record, kept)
    }
  }

  /// Whether two records ran the same protocol: every `--set` parameter that both record has
  /// the same value (a parameter added in a later version is absent from older records).
  static func sameProtocol(_ a: RunRecord, _ b: RunRecord) -> Bool {
    a.parameters.allSatisfy { key, value in b.parameters[key].map { $0 == value } ?? true }
  }

  private static func group(_ record: RunRecord) -> String? {
    guard let target = record.labels["target"], let profile = record.labels["profile"] else {
      return nil
    }
    return target + " " + profile
  }

  /// What the run was, in words, e.g. "`pipeline reproduce fig2 --profile smoke --set
  /// seed=1`, last run 2026-11-30 07:10 UTC, complete".
  static func describe(_ record: RunRecord) -> String {
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone(identifier: "UTC")
    formatter.dateFormat = "yyyy-MM-dd HH:mm 'UTC'"
    let when = formatter.string(from: record.finishedAt)
    let labels = record.labels
    switch labels["origin"] {
    case "imported":
      let bundle = labels["bundle"].map { URL(fileURLWithPath: $0).lastPathComponent } ?? "?"
      let what = [labels["target"], labels["profile"].map { "profile \($0)" }, labels["cell"]]
        .compactMap { $0 }.joined(separator: ", ")
      return "import of bundle \(bundle) (\(what)), \(when)"
    case .some:
      return "`\(labels["command"] ?? record.name)`, last run \(when), "
        + (record.isComplete ? "complete" : "stopped before the end")
    case nil:
      return "recorded by an earlier version (no description), last run \(when)"
    }
  }
}
