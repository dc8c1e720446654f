import ArgumentParser
import Experiments
import Foundation
import Reports

/// `pipeline report TARGET`: render whatever is cached, without computing anything.
struct Report: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract:
      "Render a target's report from the cache without computing anything (partial if unfinished).",
    discussion: """
      A data directory that holds nothing of the target beyond the shared round 0 is refused, \
      and the rendered report is left as it is: the error names the `pipeline import` of the \
      committed bundles that would fill it.
      """
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
    // A report of nothing (round 0, which every cell of a repetition shares, is no result of
    // any cell) would only replace a rendered one, a fresh clone's committed report, say.
    guard results.isComplete || results.progress.contains(where: { $0.roundsDone > 1 }) else {
      throw CLIError.nothingToReport(
        target: target,
        profile: workspace.plan.profile.name,
        dataDirectory: data.dataDirectory.path,
        bundleFolders: Self.bundleFolders(
          profile: workspace.plan.profile.name,
          in: reports.reportsDirectory
        ),
        reproduceArguments: workspace.reproduceArguments
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

  /// The folders `<reports>/*/<profile>` that hold result bundles (targets share cells, so a
  /// target's cells may be committed in another target's folder), as
  /// ``Workspace/displayPath(_:)`` shows them, sorted.
  static func bundleFolders(profile: String, in reports: URL) -> [String] {
    let manager = FileManager.default
    let targets = (try? manager.contentsOfDirectory(atPath: reports.path)) ?? []
    return targets.sorted().compactMap { target in
      let folder = reports.appendingPathComponent(target).appendingPathComponent(profile)
      let names = (try? manager.contentsOfDirectory(atPath: folder.path)) ?? []
      return names.contains { $0.hasSuffix(".h5") } ? Workspace.displayPath(folder) : nil
    }
  }
}
