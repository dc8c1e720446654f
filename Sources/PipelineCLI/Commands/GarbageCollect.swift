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

  @OptionGroup var data: DataOptions

  func run() throws {
    let runner = try Workspace.runner(options: data, jobs: 1, observer: SilentPipelineObserver())
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
