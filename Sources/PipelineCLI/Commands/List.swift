import ArgumentParser
import Experiments
import Foundation

/// `pipeline list`: the targets, one line each.
struct List: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "List the targets (the documents in Pipelines/) and the profiles."
  )

  @Option(help: "The folder holding the target documents (when not run from the repository root).")
  var pipelinesDir: String = "./Pipelines"

  func run() throws {
    let directory = URL(fileURLWithPath: pipelinesDir).standardizedFileURL
    let catalog = TargetCatalog(directory: directory)
    let names = catalog.names()
    guard !names.isEmpty else {
      throw CLIError.noTargets(directory: directory.path)
    }
    let width = names.map(\.count).max() ?? 6
    for name in names {
      print(
        name.padding(toLength: width, withPad: " ", startingAt: 0) + "  "
          + catalog.summary(of: name)
      )
    }
    print("\nprofiles: " + Profile.all.map { "\($0.name) (\($0.summary))" }.joined(separator: "; "))
  }
}
