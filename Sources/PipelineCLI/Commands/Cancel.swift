import ArgumentParser
import Experiments
import Foundation

/// `pipeline cancel TARGET`: cancels the Slurm job array computing a target.
struct Cancel: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Cancel a target's Slurm job array (submitted with --executor slurm).",
    discussion: """
      Finds the job id in the data directory, so it works from any node. What the tasks \
      committed stays in the cache: the same reproduce command resumes from it.
      """
  )

  @Argument(help: "The target (see `pipeline list`).")
  var target: String

  @OptionGroup var profile: ProfileOptions
  @OptionGroup var data: DataOptions

  @Option(help: ArgumentHelp("The --cells glob the job was submitted with.", valueName: "glob"))
  var cells: String?

  func run() throws {
    let workspace = try Workspace(
      target: target,
      options: data,
      profile: profile,
      cells: cells,
      progress: false,
      use: .read
    )
    guard let job = SlurmJobRecord.load(data.dataDirectory, workspace.recordName)?.current else {
      throw CLIError.invalidArgument(
        "no Slurm job of \(target) (profile \(workspace.plan.profile.name)"
          + (cells.map { ", cells '\($0)'" } ?? "") + ") is recorded in "
          + data.dataDirectory.path
      )
    }
    try SlurmClient.requireClient()
    let queued = try SlurmClient.queuedTasks(job: job.id)
    if queued.isEmpty {
      print("job \(job.id) has no task queued or running: nothing to cancel")
      return
    }
    try SlurmClient.cancel(job: job.id)
    print("cancelled job \(job.id) (\(queued.count) queued or running task(s))")
  }
}

/// The line `status` prints about the Slurm jobs of a target.
enum SlurmStatus {
  static func lines(_ workspace: Workspace) -> [String] {
    SlurmJobRecord.all(workspace.options.dataDirectory, base: workspace.baseRecordName).compactMap {
      name,
      record in
      guard let job = record.current else { return nil }
      let scope =
        name == workspace.baseRecordName
        ? ""
        : " (cells "
          + name.dropFirst(
            workspace.baseRecordName.count + ".cells-".count
          ) + ")"
      guard SlurmClient.locate("squeue") != nil,
        let queued = try? SlurmClient.queuedTasks(job: job.id)
      else {
        return "slurm job \(job.id)\(scope): \(job.indices.count) array task(s); "
          + "no squeue here to ask how they fare"
      }
      if queued.isEmpty {
        return "slurm job \(job.id)\(scope): ended (\(job.indices.count) array task(s))"
      }
      let running = queued.values.filter { $0 == "RUNNING" || $0 == "COMPLETING" }.count
      return "slurm job \(job.id)\(scope): \(running) running, \(queued.count - running) "
        + "pending, \(job.indices.count - queued.count) ended"
    }
  }
}
