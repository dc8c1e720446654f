import ArgumentParser
import Experiments
import Foundation
import Reports

/// `pipeline report TARGET`: render whatever is cached, without computing anything.
struct Report: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract:
      "Render a target's report from the cache without computing anything (partial if unfinished)."
  )

  @Argument(help: "The target (see `pipeline list`).")
  var target: String

  @OptionGroup var profile: ProfileOptions
  @OptionGroup var data: DataOptions
  @OptionGroup var reports: ReportOptions

  func run() throws {
    let workspace = try Workspace(
      target: target,
      options: data,
      profile: profile,
      progress: false,
      use: .read
    )
    let snapshot = try workspace.snapshot()
    let results = snapshot.results
    // An empty report would only replace a rendered one (a fresh clone's committed report,
    // say) with nothing.
    guard results.progress.contains(where: { $0.roundsDone > 0 }) else {
      throw CLIError.nothingToReport(
        target: target,
        profile: workspace.plan.profile.name,
        dataDirectory: data.dataDirectory.path,
        bundles: reports.reportsDirectory.appendingPathComponent(
          "\(target)/\(workspace.plan.profile.name)"
        )
      )
    }
    let files = try workspace.renderReport(snapshot, to: reports.reportsDirectory)
    if !results.isComplete && !data.quiet {
      let done = results.progress.map(\.roundsDone).reduce(0, +)
      let total = results.progress.map(\.roundsTotal).reduce(0, +)
      printError("partial report: \(done) of \(total) rounds evaluated")
    }
    for file in files where file.pathExtension == "md" || file.pathExtension == "html" {
      print(file.path)
    }
  }
}
