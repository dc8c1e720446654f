import ArgumentParser
import Experiments
import Foundation
import PipelineCore
import Reports

/// `pipeline reproduce TARGET`: run what is missing, reuse what is cached, render the report.
struct Reproduce: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Run a target's experiment (resuming from the cache) and render its report.",
    discussion: """
      Runs only the stages whose results are not cached; rerunning a finished target computes
      nothing. Interrupt with Ctrl-C at any time and rerun the same command to resume.
      """
  )

  @Argument(
    help: "The target: a document in Pipelines/ (fig1, fig2, table1, table2; see `pipeline list`)."
  )
  var target: String

  @OptionGroup var profile: ProfileOptions
  @OptionGroup var data: DataOptions

  @Option(help: "How many stages may run at once (cells run in parallel; each uses all cores).")
  var jobs: Int = 1

  func validate() throws {
    guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1, got \(jobs)") }
  }

  func run() throws {
    let started = ContinuousClock.now
    let workspace = try Workspace(target: target, options: data, profile: profile, jobs: jobs)
    let runner = workspace.runner
    let interrupts = InterruptHandler { runner.cancel() }
    defer { withExtendedLifetime(interrupts) {} }
    if !data.quiet {
      let p = workspace.plan.profile
      printError(
        "\(target): profile \(p.name), \(workspace.plan.cells.count) cells x "
          + "\(p.parameters.rounds + 1) rounds, \(workspace.plan.graph.nodes.count) stages"
      )
      if let notice = p.notice { printError(notice) }
    }
    do {
      _ = try runner.run(workspace.plan.graph, recordAs: workspace.recordName)
    } catch {
      workspace.console.finish()
      if runner.isCancelled {
        printError(
          "stopped: \(workspace.console.executedStages) stages were computed and committed this "
            + "time. Resume with: pipeline reproduce \(CommandLine.arguments.dropFirst(2).joined(separator: " "))"
        )
        throw ExitCode(130)
      }
      if "\(error)".contains("No space left on device") {
        throw CLIError.invalidArgument(
          "\(error)\nThe disk holding \(data.dataDirectory.path) is full. Everything committed "
            + "so far is kept: free some space (`pipeline gc` removes unused cache entries) or "
            + "pass --data-dir on a larger disk, then rerun the same command."
        )
      }
      throw error
    }
    workspace.console.finish()
    let previous = RecordedRun.load(data.dataDirectory, workspace.recordName)
    if workspace.console.executedStages > 0 || previous == nil {
      let git = ToolInfo.gitState()
      let system = Reports.SystemInfo.current()
      let software = ToolInfo.softwareVersions()
      let elapsed = ContinuousClock.now - started
      try RecordedRun(
        command: (["pipeline"] + CommandLine.arguments.dropFirst()).joined(separator: " "),
        gitCommit: git.commit,
        gitDirty: git.dirty,
        wallSeconds: Double(elapsed.components.seconds)
          + Double(elapsed.components.attoseconds) / 1e18,
        cpuModel: system.cpuModel,
        cores: system.cores,
        memoryBytes: system.memoryBytes,
        operatingSystem: system.operatingSystem,
        swiftVersion: software.swift,
        hdf5Version: software.hdf5,
        oneDNNVersion: software.oneDNN,
        oneDNNISA: software.oneDNNISA,
        executedRounds: workspace.console.executedRounds,
        sources: MNISTSources.digests
      ).save(data.dataDirectory, workspace.recordName)
    }
    let snapshot = try snapshotRecomputingCorruptEntries(workspace)
    let files = try workspace.renderReport(snapshot)
    for file in files where file.pathExtension == "md" || file.pathExtension == "html" {
      print(file.path)
    }
  }
}

extension Reproduce {
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
        _ = try workspace.runner.run(workspace.plan.graph, recordAs: workspace.recordName)
        workspace.console.finish()
      }
    }
  }
}

func printError(_ line: String) {
  FileHandle.standardError.write(Data((line + "\n").utf8))
}
