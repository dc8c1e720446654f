import ArgumentParser
import Experiments
import Foundation
import PipelineCore
import TestSupport
import Testing

@testable import PipelineCLI

/// Whether a Slurm cluster answers here (CI starts a one-node one with
/// `Scripts/slurm-one-node start`).
enum SlurmSettings {
  static let available: Bool = {
    guard SlurmClient.locate("sbatch") != nil, SlurmClient.locate("sinfo") != nil else {
      return false
    }
    return (try? SlurmClient.run("sinfo", ["--noheader"]))?.succeeded == true
  }()

  static var reason: Comment {
    let text =
      SlurmClient.locate("sbatch") == nil
      ? "no Slurm here: sbatch is not on the PATH (apt-get install slurm-wlm munge, then "
        + "Scripts/slurm-one-node start as root starts a one-node cluster)"
      : "sbatch is here but sinfo gets no answer from a controller (Scripts/slurm-one-node "
        + "start as root starts a one-node cluster)"
    return Comment(rawValue: text)
  }
}

/// `reproduce --executor slurm` on a real Slurm cluster: the same results as a local run,
/// each stage computed once, cancelled tasks resumed.
@Suite(
  "Slurm executor",
  .enabled(if: TortureSettings.hasMNIST, TortureSettings.noMNIST),
  .enabled(if: SlurmSettings.available, SlurmSettings.reason),
  .serialized,
  .timeLimit(.minutes(15))
)
struct SlurmTests {
  /// The smoke run of fig2 through Slurm, polling often (the smoke cells take seconds).
  static func slurmSmoke(_ workspace: URL, _ extra: [String] = []) -> [String] {
    CLIFixture.smokeFig2(workspace, ["--executor", "slurm", "--poll-interval", "0.5"] + extra)
  }

  @Test("A smoke target through --executor slurm gives the local run's results and report")
  func matchesLocalRun() throws {
    let fixture = try CLIFixture.shared()
    let workspace = try fixture.workspace(copying: fixture.base, "slurm")
    defer { fixture.discard(workspace) }
    let before = try CacheSnapshot(workspace)
    let clock = ContinuousClock()
    let start = clock.now
    let run = try PipelineProcess.run(Self.slurmSmoke(workspace), timeout: 600)
    try #require(run.succeeded, "\(run)")
    print("slurm smoke run of fig2: \(clock.now - start)")
    #expect(run.standardError.contains("submitted job "), "\(run)")
    #expect(run.standardOutput.contains("fig2-smoke.md"), "\(run)")
    try expectMatchesReference(workspace, fixture)
    // Byte-identical figure data and report body.
    let report = try ReportSnapshot(workspace, report: "fig2-smoke")
    #expect(report.assets == fixture.referenceReport.assets)
    #expect(report.markdownBody == fixture.referenceReport.markdownBody)
    // Every new entry was computed once: by the submitter (shared stages) or one task.
    let after = try CacheSnapshot(workspace)
    let newEntries = after.entries.count - before.entries.count
    let executed = try Self.executedStages([run], workspace)
    #expect(executed == newEntries, "executed \(executed), new entries \(newEntries)")
    // The report's provenance names the Slurm command and counts every cell's rounds.
    #expect(report.markdown.contains("--executor slurm"))
  }

  @Test("Two concurrent submissions of the same target compute each stage once")
  func concurrentSubmissions() throws {
    let fixture = try CLIFixture.shared()
    let workspace = try fixture.workspace(copying: fixture.base, "slurm-race")
    defer { fixture.discard(workspace) }
    let before = try CacheSnapshot(workspace)
    let runs = try (0..<2).map { _ in try PipelineProcess(Self.slurmSmoke(workspace)) }
    let outcomes = try runs.map { try $0.wait(timeout: 600) }
    for outcome in outcomes { try #require(outcome.succeeded, "\(outcome)") }
    try expectMatchesReference(workspace, fixture)
    let after = try CacheSnapshot(workspace)
    let newEntries = after.entries.count - before.entries.count
    let executed = try Self.executedStages(outcomes, workspace)
    #expect(executed == newEntries, "executed \(executed), new entries \(newEntries)")
    // One job array: the second command follows the first one's job.
    let record = try #require(SlurmJobRecord.load(workspace.dataDirectory, "fig2.smoke"))
    #expect(record.submissions.count == 1, "\(record.submissions)")
    #expect(outcomes.contains { $0.standardError.contains("following job ") }, "\(outcomes)")
    #expect(Set(outcomes.map(\.standardOutput)).count == 1, "both render the same report")
  }

  @Test("A task cancelled with scancel mid-round is resumed by resubmission, same results")
  func cancelledTaskResumes() throws {
    let fixture = try CLIFixture.shared()
    let workspace = try fixture.workspace(copying: fixture.base, "slurm-cancel")
    defer { fixture.discard(workspace) }
    let follower = try PipelineProcess(Self.slurmSmoke(workspace, ["--retries", "1"]))
    // Cancel task 0 (cell bald.bayesian.r0) as soon as its round 1 network is committed.
    let deadline = Date().addingTimeInterval(300)
    var job: String?
    while Date() < deadline, follower.isRunning {
      job = job ?? SlurmJobRecord.load(workspace.dataDirectory, "fig2.smoke")?.current?.id
      let entries = (try? CacheSnapshot(workspace))?.entries.values.map(\.stageID) ?? []
      if job != nil, entries.contains("cells/bald.bayesian.r0/round-001/train") { break }
      usleep(20_000)
    }
    let id = try #require(job, "no job was submitted")
    let cancelled = try SlurmClient.run("scancel", ["\(id)_0"])
    try #require(cancelled.succeeded, "\(cancelled.standardError)")
    let outcome = try follower.wait(timeout: 600)
    try #require(outcome.succeeded, "\(outcome)")
    // The follower resubmitted the cancelled cell, which resumed: its new task computed only
    // what the cancelled one had not committed.
    let logs = workspace.dataDirectory.appendingPathComponent("slurm/fig2.smoke/logs")
    let first = try String(contentsOf: logs.appendingPathComponent("\(id)_0.log"), encoding: .utf8)
    try #require(
      first.contains("CANCELLED") && !first.contains("[13/13 100.0%]"),
      "task 0 finished before it was cancelled: \(first)"
    )
    #expect(outcome.standardError.contains("resubmitted (retry 1 of 1) job "), "\(outcome)")
    let record = try #require(SlurmJobRecord.load(workspace.dataDirectory, "fig2.smoke"))
    let retry = try #require(record.submissions.last)
    #expect(record.submissions.count == 2 && retry.indices == [0], "\(record.submissions)")
    let resumed = try String(
      contentsOf: logs.appendingPathComponent("\(retry.id)_0.log"),
      encoding: .utf8
    )
    let log = PipelineProcess.Outcome(
      status: 0,
      wasSignalled: false,
      standardOutput: "",
      standardError: resumed,
      processID: 0
    )
    let executed = try #require(log.executedStages, "\(resumed)")
    #expect(executed > 0 && executed < 8, "the resubmitted task computed \(executed) stages")
    try expectMatchesReference(workspace, fixture)
  }

  @Test("A cell left unfinished fails the command with the cell, its log and how to resume")
  func unfinishedCellFails() throws {
    let fixture = try CLIFixture.shared()
    let workspace = try fixture.workspace(copying: fixture.base, "slurm-unfinished")
    defer { fixture.discard(workspace) }
    // Held until task 0 is cancelled, then released: the others finish, cell 0 never starts.
    let follower = try PipelineProcess(Self.slurmSmoke(workspace, ["--sbatch-arg", "--hold"]))
    let deadline = Date().addingTimeInterval(120)
    var job: String?
    while job == nil, Date() < deadline, follower.isRunning {
      job = SlurmJobRecord.load(workspace.dataDirectory, "fig2.smoke")?.current?.id
      usleep(50_000)
    }
    let id = try #require(job, "no job was submitted")
    try #require(try SlurmClient.run("scancel", ["\(id)_0"]).succeeded)
    try #require(try SlurmClient.run("scontrol", ["release", id]).succeeded)
    let outcome = try follower.wait(timeout: 600)
    #expect(!outcome.succeeded && !outcome.wasSignalled, "\(outcome)")
    #expect(
      outcome.standardError.contains("cell bald.bayesian.r0 (array task \(id)_0) did not finish"),
      "\(outcome)"
    )
    #expect(outcome.standardError.contains("1 of 6 cells did not finish"), "\(outcome)")
    #expect(outcome.standardError.contains("add --retries N"), "\(outcome)")
    #expect(outcome.standardOutput.isEmpty, "no report for an unfinished array: \(outcome)")
    let snapshot = try CacheSnapshot(workspace)
    #expect(snapshot.uncommittedEntries.isEmpty && snapshot.temporaryLeftovers.isEmpty)
  }

  @Test("--detach returns the job id; status shows it; Ctrl-C stops following; cancel; rerun")
  func detachStatusCancel() throws {
    let fixture = try CLIFixture.shared()
    let workspace = try fixture.workspace(copying: fixture.base, "slurm-detach")
    defer { fixture.discard(workspace) }
    // Held, the array stays pending while the commands below look at it.
    let detached = try PipelineProcess.run(
      Self.slurmSmoke(workspace, ["--detach", "--sbatch-arg", "--hold"])
    )
    try #require(detached.succeeded, "\(detached)")
    let job = detached.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
    #expect(job.allSatisfy(\.isNumber) && !job.isEmpty, "\(detached)")
    #expect(detached.standardError.contains("pipeline cancel fig2"), "\(detached)")
    let status = try PipelineProcess.run(
      ["status", "fig2", "--profile", "smoke"] + workspace.dataArguments
    )
    try #require(status.succeeded, "\(status)")
    #expect(
      status.standardOutput.contains("slurm job \(job): 0 running, 6 pending, 0 ended"),
      "\(status.standardOutput)"
    )
    #expect(status.standardOutput.contains("will run round-000/score"), "\(status.standardOutput)")

    // The same command follows the held job; Ctrl-C stops following, not the job.
    let follower = try PipelineProcess(Self.slurmSmoke(workspace))
    let deadline = Date().addingTimeInterval(120)
    while follower.isRunning, Date() < deadline,
      !follower.standardErrorSoFar.contains("job \(job): 0 running")
    {
      usleep(50_000)
    }
    try #require(follower.send(SIGINT), "the follower ended by itself")
    let stopped = try follower.wait(timeout: 60)
    #expect(stopped.status == 130 && !stopped.wasSignalled, "\(stopped)")
    #expect(stopped.standardError.contains("following job \(job)"), "\(stopped)")
    #expect(stopped.standardError.contains("or scancel \(job)"), "\(stopped)")
    #expect(stopped.standardError.contains("pipeline cancel fig2 --profile smoke"), "\(stopped)")
    #expect(!(try SlurmClient.queuedTasks(job: job)).isEmpty, "the job is still queued")

    let cancel = try PipelineProcess.run(
      ["cancel", "fig2", "--profile", "smoke"] + workspace.dataArguments
    )
    try #require(cancel.succeeded, "\(cancel)")
    #expect(cancel.standardOutput.contains("cancelled job \(job)"), "\(cancel)")
    while !(try SlurmClient.queuedTasks(job: job)).isEmpty { usleep(100_000) }
    let after = try PipelineProcess.run(
      ["status", "fig2", "--profile", "smoke"] + workspace.dataArguments
    )
    #expect(after.standardOutput.contains("slurm job \(job): ended"), "\(after.standardOutput)")
    let finished = try PipelineProcess.run(Self.slurmSmoke(workspace), timeout: 600)
    try #require(finished.succeeded, "\(finished)")
    try expectMatchesReference(workspace, fixture)
  }

  /// Stages computed by the submitting commands (their shared stages) and by every array
  /// task (the last progress line of each log).
  static func executedStages(_ runs: [PipelineProcess.Outcome], _ workspace: URL) throws -> Int {
    var total = runs.compactMap(\.executedStages).reduce(0, +)
    let logs = workspace.dataDirectory.appendingPathComponent("slurm/fig2.smoke/logs")
    for name in try FileManager.default.contentsOfDirectory(atPath: logs.path) {
      let text = try String(contentsOf: logs.appendingPathComponent(name), encoding: .utf8)
      let outcome = PipelineProcess.Outcome(
        status: 0,
        wasSignalled: false,
        standardOutput: "",
        standardError: text,
        processID: 0
      )
      total += outcome.executedStages ?? 0
    }
    return total
  }
}

/// The parts of the Slurm executor that need no cluster.
@Suite("Slurm executor, without a cluster")
struct SlurmUnitTests {
  @Test("Array index lists: runs of consecutive indices as ranges")
  func arraySpecs() {
    #expect(SlurmClient.arraySpec([0, 1, 2, 3]) == "0-3")
    #expect(SlurmClient.arraySpec([5, 0, 2, 3]) == "0,2-3,5")
    #expect(SlurmClient.arraySpec([4]) == "4")
    #expect(SlurmClient.parseIndices("[0-2,5%2]") == [0, 1, 2, 5])
  }

  @Test("squeue and sbatch answers parse")
  func parsing() {
    let queue = SlurmClient.parseQueue("3|RUNNING\n4-5|PENDING\n[7,9]|PENDING\n")
    #expect(queue == [3: "RUNNING", 4: "PENDING", 5: "PENDING", 7: "PENDING", 9: "PENDING"])
    #expect(SlurmClient.parseSubmission("1234\n") == "1234")
    #expect(SlurmClient.parseSubmission("1234;cluster\n") == "1234")
    #expect(SlurmClient.parseSubmission("sbatch: error\n") == nil)
  }

  @Test("Filesystems: NFS warned about, per-node locks refused, local and GPFS accepted")
  func filesystems() {
    typealias F = SharedFilesystem
    #expect(F.classify(type: 0xEF53, name: "ext4", options: ["rw"]) == .safe("ext4"))
    #expect(F.classify(type: F.Magic.gpfs, name: "gpfs", options: []) == .safe("GPFS"))
    guard case .warn(let nfs) = F.classify(type: F.Magic.nfs, name: "nfs4", options: ["vers=4.2"])
    else {
      Issue.record("NFSv4 should be a warning")
      return
    }
    #expect(nfs.contains("vers=4.2") && nfs.contains("lock manager"))
    for options in [["vers=3", "nolock"], ["vers=4.1", "local_lock=all"]] {
      guard case .refuse(let reason) = F.classify(type: F.Magic.nfs, name: "nfs", options: options)
      else {
        Issue.record("NFS with \(options) should be refused")
        continue
      }
      #expect(reason.contains(options[1]))
    }
    #expect(
      F.classify(type: F.Magic.lustre, name: "lustre", options: ["rw", "flock"])
        == .safe("Lustre mounted with flock")
    )
    guard case .refuse = F.classify(type: F.Magic.lustre, name: "lustre", options: ["localflock"])
    else {
      Issue.record("Lustre with localflock should be refused")
      return
    }
    guard case .warn = F.classify(type: F.Magic.fuse, name: "fuse.sshfs", options: []) else {
      Issue.record("sshfs should be a warning")
      return
    }
  }

  @Test("The mount holding a path is the longest mount point above it")
  func mounts() {
    let table = """
      overlay / overlay rw,relatime 0 0
      server:/home /home nfs4 rw,vers=4.2,local_lock=none 0 0
      server:/scratch /home/ada/scratch\\040space nfs rw,vers=3,nolock 0 0
      """
    let home = SharedFilesystem.mountEntry(containing: "/home/ada/Data", in: table)
    #expect(home?.type == "nfs4" && home?.mountPoint == "/home")
    let scratch = SharedFilesystem.mountEntry(containing: "/home/ada/scratch space/D", in: table)
    #expect(scratch?.options.contains("nolock") == true)
    #expect(SharedFilesystem.mountEntry(containing: "/homeless", in: table)?.mountPoint == "/")
    // This machine's temporary folder is examined without failing.
    if case .refuse(let reason) = SharedFilesystem.check(FileManager.default.temporaryDirectory) {
      Issue.record("the temporary folder is refused: \(reason)")
    }
    #expect(SharedFilesystem.statfsType("/proc") == 0x9FA0, "procfs's magic number")
  }

  @Test("The batch script maps array indices to cells and runs the same binary")
  func batchScript() throws {
    let script = SlurmBatchScript.render(
      target: "fig2",
      cells: ["bald.bayesian.r0", "odd cell's name"],
      command: ["/opt/my tools/pipeline", "reproduce", "fig2", "--data-dir", "/data/ada's"]
    )
    let file = try TestSupport.temporaryDirectory("slurm-script").appendingPathComponent("a.sh")
    try script.write(to: file, atomically: true, encoding: .utf8)
    // With `exec` replaced by `printf`, the script prints the words it would run.
    let dry = script.replacingOccurrences(of: "exec ", with: "printf '%s\\n' ")
    try dry.write(to: file, atomically: true, encoding: .utf8)
    for (index, cell) in ["bald.bayesian.r0", "odd cell's name"].enumerated() {
      let process = Process()
      process.executableURL = URL(fileURLWithPath: "/bin/bash")
      process.arguments = [file.path]
      process.environment = ["SLURM_ARRAY_TASK_ID": String(index), "PATH": "/usr/bin:/bin"]
      let pipe = Pipe()
      process.standardOutput = pipe
      process.standardError = FileHandle.nullDevice
      try process.run()
      let output = pipe.fileHandleForReading.readDataToEndOfFile()
      process.waitUntilExit()
      #expect(
        String(decoding: output, as: UTF8.self).split(separator: "\n").map(String.init)
          == [
            "/opt/my tools/pipeline", "reproduce", "fig2", "--data-dir", "/data/ada's", "--cells",
            cell,
          ]
      )
    }
  }

  @Test("The shared stages: data, splits and round 0 training and evaluation only")
  func sharedStages() throws {
    let options = try DataOptions.parse([
      "--data-dir", try TestSupport.temporaryDirectory("slurm-shared").path, "--pipelines-dir",
      TestSupport.repositoryRoot.appendingPathComponent("Pipelines").path,
    ])
    let workspace = try Workspace(
      target: "fig2",
      options: options,
      profile: try ProfileOptions.parse(["--profile", "smoke"]),
      progress: false
    )
    let shared = try SlurmExecutor.sharedGraph(workspace.plan)
    let ids = shared.nodes.map(\.id.rawValue)
    #expect(ids.contains("mnist/download") && ids.contains("splits/r0"))
    #expect(ids.contains("cells/bald.bayesian.r0/round-000/evaluate"))
    #expect(!ids.contains { $0.hasSuffix("/score") || $0.hasSuffix("/acquire") })
    #expect(!ids.contains { $0.contains("round-001") })
    try shared.validate()
  }

  @Test("Slurm options need --executor slurm")
  func optionsNeedSlurm() throws {
    #expect(throws: (any Error).self) {
      try Reproduce.parse(["fig2", "--partition", "gpu"])
    }
    #expect(throws: (any Error).self) {
      try Reproduce.parse(["fig2", "--executor", "slurm", "--retries", "-1"])
    }
    let parsed = try Reproduce.parse([
      "fig2", "--executor", "slurm", "--sbatch-arg", "--account=lab", "--sbatch-arg", "--qos=low",
    ])
    #expect(parsed.executor.sbatchArguments == ["--account=lab", "--qos=low"])
  }
}
