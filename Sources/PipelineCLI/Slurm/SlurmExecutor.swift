import ArgumentParser
import Experiments
import Foundation
import PipelineCore
import Reports

/// `pipeline reproduce TARGET --executor slurm`: the shared stages here, then one job array
/// task per cell on the shared data directory; follows the array, resubmits failed cells when
/// asked, and renders the report once every cell is in the cache.
struct SlurmExecutor {
  let target: String
  let profile: ProfileOptions
  let data: DataOptions
  let reports: ReportOptions
  let mirror: MirrorOptions
  let jobs: Int
  let cells: String?
  let options: ExecutorOptions

  /// The command as the user typed it (for the messages that say how to follow again).
  var arguments: [String] = CommandLine.arguments

  func run() throws {
    let started = Date()
    try SlurmClient.requireClient()
    let workspace = try Workspace(
      target: target,
      options: data,
      profile: profile,
      cells: cells,
      mirror: mirror,
      jobs: jobs,
      progress: false
    )
    try checkFilesystem()
    let plan = workspace.computePlan
    let cellNames = plan.cells.map(\.description)
    let stop = StopFlag()
    let sharedConsole = ConsoleObserver(quiet: data.quiet, showProgress: true, plan: plan)
    let sharedRunner = try Workspace.runner(
      options: data,
      mirror: mirror,
      jobs: jobs,
      observer: sharedConsole
    )
    let interrupts = InterruptHandler {
      stop.set()
      sharedRunner.cancel()
    }
    defer { withExtendedLifetime(interrupts) {} }

    // The stages every cell starts from, once, here: the array tasks then never wait on each
    // other, and a cluster whose compute nodes have no network still gets MNIST.
    let shared = try Self.sharedGraph(plan)
    say(
      "\(target): profile \(plan.profile.name), \(cellNames.count) cells as Slurm array tasks"
        + (cells.map { " (cells matching '\($0)')" } ?? "")
        + "; first the \(shared.nodes.count) shared stages here"
    )
    do {
      try sharedRunner.run(
        shared,
        recordAs: workspace.recordName,
        labels: workspace.recordLabels,
        parameters: workspace.recordParameters
      )
      sharedConsole.finish()
      let executed = sharedConsole.executedStages
      say("shared stages: \(executed) executed, \(shared.nodes.count - executed) cached")
    } catch {
      sharedConsole.finish()
      if sharedRunner.isCancelled {
        printError("stopped before submitting anything. Resume with: \(again)")
        throw ExitCode(130)
      }
      throw error
    }

    let recordName = workspace.recordName
    var submittedHere = 0
    while true {
      // Under the run's lock: follow the job that runs, or submit what the cache lacks.
      let decision = try SlurmJobRecord.locked(data.dataDirectory, recordName) {
        try decide(
          workspace,
          cellNames: cellNames,
          submittedHere: submittedHere,
          sharedRounds: sharedConsole.executedRounds
        )
      }
      switch decision {
      case .complete:
        try finish(workspace, started: started)
        return
      case .failed(let incomplete, let record):
        try explainFailure(incomplete, record: record, recordName: recordName)
      case .follow(let job, let submitted):
        if submitted { submittedHere += 1 }
        if options.detach {
          print(job.id)
          say(
            Self.detached(
              job: job.id,
              tasks: job.indices.count,
              target: target,
              status: statusCommand,
              again: again,
              cancel: cancelCommand
            )
          )
          return
        }
        try follow(job, workspace: workspace, cellNames: cellNames, stop: stop)
      }
    }
  }

  // MARK: - Submitting

  private enum Decision {
    case follow(SlurmJobRecord.Submission, submitted: Bool)
    case complete
    case failed([String], SlurmJobRecord)
  }

  /// What to do next, decided under the run's lock: follow a job that is still queued, submit
  /// the cells the cache lacks (once per command, plus `--retries`), finish, or fail.
  private func decide(
    _ workspace: Workspace,
    cellNames: [String],
    submittedHere: Int,
    sharedRounds: [String: [Int]]
  ) throws -> Decision {
    let dataDirectory = data.dataDirectory
    let recordName = workspace.recordName
    var record = SlurmJobRecord.load(dataDirectory, recordName) ?? SlurmJobRecord(cells: cellNames)
    // The round-0 evaluations run here count as executed by the run, as in a local run.
    if !sharedRounds.isEmpty {
      record.sharedRounds = RecordedRun.merge(record.sharedRounds ?? [:], sharedRounds)
      try record.save(dataDirectory, recordName)
    }
    if let current = record.current, !(try SlurmClient.queuedTasks(job: current.id)).isEmpty {
      guard record.cells == cellNames else {
        throw SlurmClient.Failure(
          description: "job \(current.id) of an earlier submission with other cells is still "
            + "queued or running; cancel it with `\(cancelCommand)` and rerun"
        )
      }
      if submittedHere == 0 { say("following job \(current.id), submitted earlier") }
      return .follow(current, submitted: false)
    }
    let incomplete = try Self.incompleteCells(workspace)
    guard !incomplete.isEmpty else { return .complete }
    // The first submission of this command, then up to --retries resubmissions.
    guard submittedHere <= options.retries else { return .failed(incomplete, record) }
    if record.cells != cellNames { record = SlurmJobRecord(cells: cellNames) }
    let indices = incomplete.compactMap { cellNames.firstIndex(of: $0) }
    let folder = SlurmJobRecord.folder(dataDirectory, recordName)
    let script = folder.appendingPathComponent("array.sh")
    try SlurmBatchScript.render(target: target, cells: cellNames, command: taskCommand)
      .write(to: script, atomically: true, encoding: .utf8)
    let logs = folder.appendingPathComponent("logs")
    try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
    let id = try SlurmClient.submit(
      script: script,
      arguments: sbatchArguments(array: SlurmClient.arraySpec(indices), logs: logs)
    )
    let submission = SlurmJobRecord.Submission(id: id, indices: indices, submitted: Date())
    record.submissions.append(submission)
    try record.save(dataDirectory, recordName)
    say(
      (submittedHere == 0
        ? "submitted" : "resubmitted (retry \(submittedHere) of \(options.retries))")
        + " job \(id): \(indices.count) array task(s), "
        + (indices.count == cellNames.count
          ? "one per cell" : "cells " + incomplete.joined(separator: ", "))
        + "; logs in \(logs.path)"
    )
    return .follow(submission, submitted: true)
  }

  /// The options of sbatch for the array.
  func sbatchArguments(array: String, logs: URL) -> [String] {
    var arguments = [
      "--array=\(array)",
      "--job-name=dbal-\(target)-\(profile.profile)",
      "--output=\(logs.path)/%A_%a.log",
      "--chdir=\(FileManager.default.currentDirectoryPath)",
      // The engine stops at the next safe point on SIGTERM: a task that reaches its time limit
      // commits what it finished, and its resubmission resumes there.
      "--signal=TERM@60",
    ]
    if let partition = options.partition { arguments.append("--partition=\(partition)") }
    if let time = options.time { arguments.append("--time=\(time)") }
    if let cpus = options.cpusPerTask { arguments.append("--cpus-per-task=\(cpus)") }
    if let mem = options.mem { arguments.append("--mem=\(mem)") }
    return arguments + options.sbatchArguments
  }

  /// One task's command, without its `--cells`: this same binary, absolute paths.
  var taskCommand: [String] {
    var command = [
      Self.executablePath(), "reproduce", target, "--profile", profile.profile,
    ]
    command += profile.overrides.flatMap { ["--set", $0] }
    command += [
      "--data-dir", data.dataDirectory.path,
      "--pipelines-dir", URL(fileURLWithPath: data.pipelinesDir).standardizedFileURL.path,
      "--jobs", String(jobs), "--array-task",
    ]
    if let mirror = mirror.resolved {
      command += ["--mnist-mirror", URL(fileURLWithPath: mirror).standardizedFileURL.path]
    }
    return command
  }

  /// The absolute path of the running binary (the tasks run the very same one).
  static func executablePath() -> String {
    if let resolved = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
      return resolved
    }
    return URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL
      .resolvingSymlinksInPath().path
  }

  // MARK: - Following

  /// Polls the array until none of its tasks is queued, saying what runs and how far each
  /// running cell got in the cache.
  private func follow(
    _ job: SlurmJobRecord.Submission,
    workspace: Workspace,
    cellNames: [String],
    stop: StopFlag
  ) throws {
    let started = Date()
    var firstRounds: Int?
    var lastLine = ""
    while true {
      let queued = try patiently(stop: stop) { try SlurmClient.queuedTasks(job: job.id) }
      let progress = try Self.cellProgress(workspace)
      let doneRounds = progress.values.map(\.done).reduce(0, +)
      let totalRounds = progress.values.map(\.total).reduce(0, +)
      if firstRounds == nil { firstRounds = doneRounds }
      let running = queued.filter { $0.value == "RUNNING" || $0.value == "COMPLETING" }
      let pending = queued.count - running.count
      let ended = job.indices.count - queued.count
      let runningCells = running.keys.sorted().compactMap { index -> String? in
        guard index < cellNames.count, let cell = progress[cellNames[index]] else { return nil }
        return "\(cellNames[index]) \(cell.done)/\(cell.total)"
      }
      var line =
        "job \(job.id): \(running.count) running, \(pending) pending, \(ended) ended"
        + " | rounds evaluated \(doneRounds)/\(totalRounds)"
      if !runningCells.isEmpty { line += " | " + runningCells.joined(separator: ", ") }
      if line != lastLine {
        let gained = doneRounds - (firstRounds ?? doneRounds)
        let elapsed = Date().timeIntervalSince(started)
        var eta = ""
        if gained > 0, doneRounds < totalRounds, !queued.isEmpty {
          eta =
            " | ETA " + Self.duration(elapsed / Double(gained) * Double(totalRounds - doneRounds))
        }
        say(line + eta)
        lastLine = line
      }
      if queued.isEmpty { return }
      let deadline = Date().addingTimeInterval(options.pollInterval)
      while Date() < deadline {
        if stop.isSet {
          printError(Self.stoppedFollowing(job: job.id, again: again, cancel: cancelCommand))
          throw ExitCode(130)
        }
        usleep(100_000)
      }
    }
  }

  /// `body`, tried again (up to five times, a poll interval apart) while it fails: a busy
  /// controller answers squeue with a timeout now and then, which must not end the following.
  private func patiently<T>(stop: StopFlag, _ body: () throws -> T) throws -> T {
    var attempt = 0
    while true {
      do {
        return try body()
      } catch {
        attempt += 1
        guard attempt < 5, !stop.isSet else { throw error }
        printError("warning: \(error); trying again in \(Int(options.pollInterval.rounded(.up))) s")
        Thread.sleep(forTimeInterval: options.pollInterval)
      }
    }
  }

  /// Rounds evaluated per cell of the run, from the cache.
  static func cellProgress(_ workspace: Workspace) throws -> [String: (done: Int, total: Int)] {
    let statuses = try workspace.runner.status(workspace.computePlan.graph)
    var progress: [String: (done: Int, total: Int)] = [:]
    for node in workspace.computePlan.graph.nodes
    where node.round != nil && node.id.rawValue.hasSuffix("/evaluate") {
      guard let group = node.group else { continue }
      var entry = progress[group] ?? (0, 0)
      entry.total += 1
      if statuses[node.id]?.isCached == true { entry.done += 1 }
      progress[group] = entry
    }
    return progress
  }

  /// The cells with a stage not in the cache, in plan order.
  static func incompleteCells(_ workspace: Workspace) throws -> [String] {
    let statuses = try workspace.runner.status(workspace.computePlan.graph)
    var incomplete: Set<String> = []
    for node in workspace.computePlan.graph.nodes {
      guard let group = node.group, node.round != nil else { continue }
      if statuses[node.id]?.isCached == true { continue }
      incomplete.insert(group)
    }
    return workspace.computePlan.cells.map(\.description).filter(incomplete.contains)
  }

  /// Download, preprocessing, splits and the round-0 training and evaluation every cell of a
  /// repetition shares (one cache entry per repetition and model).
  static func sharedGraph(_ plan: ExperimentPlan) throws -> PipelineGraph {
    var graph = PipelineGraph()
    for node in plan.graph.nodes {
      let kind = node.id.rawValue.split(separator: "/").last ?? ""
      guard node.round == nil || (node.round == 0 && kind != "score" && kind != "acquire") else {
        continue
      }
      try graph.add(node)
    }
    return graph
  }

  // MARK: - Ending

  /// Every cell is in the cache: record the run as a local run would (its wall time counts
  /// from the first submission), render the report.
  private func finish(_ workspace: Workspace, started: Date) throws {
    let dataDirectory = data.dataDirectory
    let recordName = workspace.recordName
    let record = SlurmJobRecord.load(dataDirectory, recordName)
    // Everything is cached: this records the run's entries (gc roots, status) and computes
    // nothing.
    let quietRunner = try Workspace.runner(
      options: data,
      jobs: 1,
      observer: ConsoleObserver(quiet: true, showProgress: false, plan: nil)
    )
    try quietRunner.run(
      workspace.computePlan.graph,
      recordAs: recordName,
      labels: workspace.recordLabels,
      parameters: workspace.recordParameters
    )
    let campaign = record?.campaign ?? []
    let previous = RecordedRun.load(dataDirectory, recordName)
    if !campaign.isEmpty || previous == nil {
      let since = campaign.first?.submitted ?? started
      var executed = RecordedRun.merge(
        campaign.isEmpty ? [:] : (previous?.executedRounds ?? [:]),
        record?.sharedRounds ?? [:]
      )
      for cell in workspace.computePlan.cells.map(\.description) {
        let cellRecord = RecordedRun.load(
          dataDirectory,
          Workspace.recordName(workspace.baseRecordName, cells: cell)
        )
        executed = RecordedRun.merge(executed, cellRecord?.executedRounds ?? [:])
      }
      try RecordedRun.onThisMachine(
        command: Reproduce.recordedCommand(arguments: arguments),
        wallSeconds: (campaign.isEmpty ? 0 : previous?.wallSeconds ?? 0)
          + Date().timeIntervalSince(since),
        executedRounds: executed
      ).save(dataDirectory, recordName)
    }
    if var finished = record {
      finished.finished = Date()
      finished.sharedRounds = nil
      try finished.save(dataDirectory, recordName)
    }
    say("all \(workspace.computePlan.cells.count) cells are in the cache")
    let snapshot = try workspace.snapshot()
    let files = try workspace.renderReport(snapshot, to: reports.reportsDirectory)
    for file in files where file.pathExtension == "md" || file.pathExtension == "html" {
      print(file.path)
    }
  }

  /// Says which cells did not finish and why (sacct where there is accounting, else each
  /// task's log), then fails with how to resume.
  private func explainFailure(
    _ incomplete: [String],
    record: SlurmJobRecord,
    recordName: String
  ) throws -> Never {
    let states = record.current.map { SlurmClient.endStates(job: $0.id) } ?? [:]
    let logs = SlurmJobRecord.folder(data.dataDirectory, recordName)
      .appendingPathComponent("logs")
    for cell in incomplete {
      guard let index = record.cells.firstIndex(of: cell), let job = record.current else {
        continue
      }
      let log = logs.appendingPathComponent("\(job.id)_\(index).log")
      let text = try? String(contentsOf: log, encoding: .utf8)
      let last =
        text.map { $0.split(separator: "\n").last.map(String.init) ?? "(empty log)" }
        ?? "the task never started (cancelled or refused while pending)"
      printError(
        "cell \(cell) (array task \(job.id)_\(index)) did not finish"
          + (states[index].map { " (\($0))" } ?? "") + ": \(last)\n  log: \(log.path)"
      )
    }
    throw SlurmClient.Failure(
      description: Self.unfinished(
        incomplete.count,
        of: record.cells.count,
        again: again,
        retries: options.retries
      )
    )
  }

  // MARK: - Words

  /// This command again, as typed.
  var again: String { SuggestedCommand.again(arguments: arguments) }

  /// `pipeline status` of this target, profile and overrides.
  var statusCommand: String {
    SuggestedCommand.slurmRun(
      "status",
      target: target,
      profile: profile,
      cells: nil,
      dataDirectory: data.dataDirectory.path,
      arguments: arguments
    )
  }

  /// `pipeline cancel` of this run.
  var cancelCommand: String {
    SuggestedCommand.slurmRun(
      "cancel",
      target: target,
      profile: profile,
      cells: cells,
      dataDirectory: data.dataDirectory.path,
      arguments: arguments
    )
  }

  /// What `--detach` says after submitting (the job id alone goes to stdout).
  static func detached(
    job: String,
    tasks: Int,
    target: String,
    status: String,
    again: String,
    cancel: String
  ) -> String {
    "job \(job): \(tasks) array task(s) of \(target) on the cluster. Progress: `\(status)`; "
      + "follow it and render the report when it ends: `\(again)`; cancel it: `\(cancel)` or "
      + "scancel \(job)"
  }

  /// What Ctrl-C while following says.
  static func stoppedFollowing(job: String, again: String, cancel: String) -> String {
    "stopped following: job \(job) keeps running on the cluster. Follow it again (and render "
      + "the report when it ends) with: `\(again)`; cancel it with `\(cancel)` or scancel \(job)"
  }

  /// The error when cells did not finish and no retry is left.
  static func unfinished(_ count: Int, of total: Int, again: String, retries: Int) -> String {
    "\(count) of \(total) cells did not finish; what their tasks committed is kept. Resubmit "
      + "them (they resume from the cache) with: `\(again)`"
      + (retries == 0 ? ", or add --retries N to resubmit failed cells by itself" : "")
  }

  private func say(_ line: String) {
    if !data.quiet { printError(line) }
  }

  /// Refuses a data directory whose filesystem is known to keep locks per node; warns where
  /// that cannot be told.
  private func checkFilesystem() throws {
    switch SharedFilesystem.check(data.dataDirectory) {
    case .safe(let name):
      if let nodes = SlurmClient.nodeCount(), nodes > 1,
        ["ext2", "ext3", "ext4", "xfs", "btrfs", "tmpfs", "overlay", "zfs"].contains(name)
      {
        printError(
          "warning: the data directory \(data.dataDirectory.path) is on a local filesystem "
            + "(\(name)) and the cluster has \(nodes) nodes: tasks on other nodes cannot see "
            + "it unless it is shared; use a data directory on the cluster's shared filesystem"
        )
      }
    case .warn(let reason):
      printError("warning: the data directory \(data.dataDirectory.path) \(reason)")
    case .refuse(let reason):
      throw SlurmClient.Failure(
        description: "the data directory \(data.dataDirectory.path) \(reason)"
      )
    }
  }

  static func duration(_ seconds: Double) -> String {
    let total = Int(seconds.rounded())
    if total < 60 { return "\(total)s" }
    if total < 3600 { return "\(total / 60)m \(total % 60)s" }
    return "\(total / 3600)h \(total % 3600 / 60)m"
  }
}

/// Set by Ctrl-C, read by the loop that follows the array.
final class StopFlag: @unchecked Sendable {
  private let lock = NSLock()
  private var value = false
  func set() { lock.withLock { value = true } }
  var isSet: Bool { lock.withLock { value } }
}
