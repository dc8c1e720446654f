import ArgumentParser
import Foundation
import PipelineCore

/// `pipeline gc`: remove cache entries no target's latest run uses.
struct GarbageCollect: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "gc",
    abstract: "Remove cache entries not reachable from any target's latest run."
  )

  @Flag(help: "List what would be removed without removing it.")
  var dryRun = false

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

  func run() throws {
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
    let report = try runner.collectGarbage(dryRun: dryRun)
    for item in report.items {
      print(
        "\(dryRun ? "would remove" : "removed") \(item.category.rawValue) \(item.path.path) (\(item.bytes) bytes)"
      )
    }
    let verb = dryRun ? "would free" : "freed"
    print("\(report.items.count) items, \(verb) \(report.totalBytes) bytes")
  }
}
