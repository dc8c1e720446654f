import ArgumentParser
import Experiments
import Foundation
import PipelineCore
import Reports

/// `pipeline reproduce TARGET`: run what is missing, reuse what is cached, render the report.
struct Reproduce: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Compute a target (resuming from the cache) and render its report.",
    discussion: """
      Runs only the stages whose results are not cached; rerunning a finished target computes \
      nothing. Interrupt with Ctrl-C at any time and rerun the same command to resume.
      """
  )

  @Argument(
    help: "The target: a document in Pipelines/, such as fig2 or table1 (see `pipeline list`)."
  )
  var target: String

  @OptionGroup var profile: ProfileOptions
  @OptionGroup var data: DataOptions
  @OptionGroup var reports: ReportOptions
  @OptionGroup var mirror: MirrorOptions

  @Option(help: "How many stages may run at once (cells run in parallel; each uses all cores).")
  var jobs: Int = 1

  @Option(
    help: ArgumentHelp(
      "Compute only the cells matching this shell-style glob, e.g. '*.r0' or 'bald.*'.",
      discussion: """
        Several globs separated by commas select the cells any of them matches, e.g. \
        'mean-std.*,random.*'. The report still shows every cell, marked partial until all are \
        done.
        """,
      valueName: "glob"
    )
  )
  var cells: String?

  @OptionGroup(title: "Running on a Slurm cluster") var executor: ExecutorOptions

  func validate() throws {
    guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1, got \(jobs)") }
  }

  func run() throws {
    if executor.isSlurm {
      return try SlurmExecutor(
        target: target,
        profile: profile,
        data: data,
        reports: reports,
        mirror: mirror,
        jobs: jobs,
        cells: cells,
        options: executor
      ).run()
    }
    let started = ContinuousClock.now
    let workspace = try Workspace(
      target: target,
      options: data,
      profile: profile,
      cells: cells,
      mirror: mirror,
      jobs: jobs
    )
    let runner = workspace.runner
    let interrupts = InterruptHandler { runner.cancel() }
    defer { withExtendedLifetime(interrupts) {} }
    if !data.quiet {
      let p = workspace.plan.profile
      let plan = workspace.computePlan
      printError(
        "\(target): profile \(p.name), \(plan.cells.count) cells x "
          + "\(p.parameters.rounds + 1) rounds, \(plan.graph.nodes.count) stages"
          + (cells.map { " (cells matching '\($0)' of \(workspace.plan.cells.count))" } ?? "")
      )
      if let notice = p.notice { printError(notice) }
    }
    do {
      _ = try workspace.run()
    } catch {
      workspace.console.finish()
      // What was computed before the stop is committed: record it, so that a report rendered
      // now tells the truth about who computed what, on which code and machine.
      try? record(workspace, since: started)
      if runner.isCancelled {
        printError(Self.stopped(executedStages: workspace.console.executedStages))
        throw ExitCode(130)
      }
      if "\(error)".contains("No space left on device") {
        throw CLIError.diskFull(
          "\(error)",
          dataDirectory: data.dataDirectory.path,
          program: SuggestedCommand.invokedProgram()
        )
      }
      throw error
    }
    workspace.console.finish()
    try record(workspace, since: started)
    // An array task computes its cell; the command that follows the array renders the report.
    if executor.arrayTask { return }
    let snapshot = try snapshotRecomputingCorruptEntries(workspace)
    let files = try workspace.renderReport(snapshot, to: reports.reportsDirectory)
    for file in files where file.pathExtension == "md" || file.pathExtension == "html" {
      print(file.path)
    }
  }
}

extension Reproduce {
  /// What an interrupted run prints as it exits: what it kept, and the command that resumes
  /// it, as the user invoked it (the wrapper or the binary's path, the same arguments).
  static func stopped(
    executedStages: Int,
    arguments: [String] = CommandLine.arguments,
    environment: [String: String] = ProcessInfo.processInfo.environment
  ) -> String {
    "stopped: \(executedStages) stages were computed and committed this time. Resume with: "
      + SuggestedCommand.again(arguments: arguments, environment: environment)
  }

  /// The command a report names as the one that computed it: this invocation, under the
  /// tool's own name (it is rendered in reports that travel to other machines).
  static func recordedCommand(arguments: [String] = CommandLine.arguments) -> String {
    SuggestedCommand.shellLine(["pipeline"] + arguments.dropFirst())
  }

  /// Saves the run record: this invocation's command, code version and machine, with the
  /// rounds it executed added to those of earlier, interrupted invocations of the same target
  /// and profile (their wall times add up too). An invocation that computed nothing keeps an
  /// existing record as it is.
  private func record(_ workspace: Workspace, since started: ContinuousClock.Instant) throws {
    let previous = RecordedRun.load(data.dataDirectory, workspace.recordName)
    guard workspace.console.executedStages > 0 || previous == nil else { return }
    let elapsed = ContinuousClock.now - started
    let executed = RecordedRun.merge(
      previous?.executedRounds ?? [:],
      workspace.console.executedRounds
    )
    try RecordedRun.onThisMachine(
      command: Self.recordedCommand(),
      wallSeconds: (previous?.wallSeconds ?? 0) + Double(elapsed.components.seconds)
        + Double(elapsed.components.attoseconds) / 1e18,
      executedRounds: executed
    ).save(data.dataDirectory, workspace.recordName)
  }

  /// The run's cache snapshot; an artifact that fails its digest check when read (the run itself
  /// reuses entries after a size check only) has been quarantined, so running the graph again
  /// recomputes it and what depends on it, as the promise "rerun and it finishes" requires.
  private func snapshotRecomputingCorruptEntries(
    _ workspace: Workspace
  ) throws
    -> Workspace.CacheSnapshot
  {
    var attempts = 0
    while true {
      do {
        return try workspace.snapshot()
      } catch PipelineError.corruptArtifact where attempts < 3 {
        attempts += 1
        _ = try workspace.run()
        workspace.console.finish()
      }
    }
  }
}

func printError(_ line: String) {
  FileHandle.standardError.write(Data((line + "\n").utf8))
}
