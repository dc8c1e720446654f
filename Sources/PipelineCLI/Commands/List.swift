import ArgumentParser
import Experiments
import Foundation

/// `pipeline list`: the targets, one line each.
struct List: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "List the targets (the documents in Pipelines/) and the profiles."
  )

  @Option(help: ArgumentHelp("Where the target documents live.", visibility: .hidden))
  var pipelinesDir: String = "./Pipelines"

  func run() throws {
    let catalog = TargetCatalog(directory: URL(fileURLWithPath: pipelinesDir))
    let names = catalog.names()
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
