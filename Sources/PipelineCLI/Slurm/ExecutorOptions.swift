import ArgumentParser
import Foundation

/// Where `reproduce` computes its cells: in this process, or as the tasks of one Slurm job
/// array on a cluster that shares the data directory.
struct ExecutorOptions: ParsableArguments {
  enum Executor: String, ExpressibleByArgument, CaseIterable {
    case local
    case slurm
  }

  @Option(
    help: ArgumentHelp(
      "Where the cells run: local (this process) or slurm (one job array task per cell).",
      discussion: """
        With slurm the shared stages (download, preprocessing, splits, round 0) run here \
        first, then every cell is one task of a job array on the shared --data-dir; this \
        command follows the array and renders the report when it ends.
        """
    )
  )
  var executor: Executor = .local

  @Option(help: "The Slurm partition of the array tasks (with --executor slurm).")
  var partition: String?

  @Option(
    help: ArgumentHelp(
      "The Slurm time limit of each array task, e.g. 04:00:00 (with --executor slurm).",
      valueName: "time"
    )
  )
  var time: String?

  @Option(help: "CPUs of each array task; the task runs that many threads (--executor slurm).")
  var cpusPerTask: Int?

  @Option(
    help: ArgumentHelp(
      "Memory of each array task in Slurm's terms, e.g. 8G (with --executor slurm).",
      valueName: "size"
    )
  )
  var mem: String?

  @Option(
    name: .customLong("sbatch-arg"),
    parsing: .unconditionalSingleValue,
    help: ArgumentHelp(
      "One more argument for sbatch, e.g. --sbatch-arg --account=lab (repeatable).",
      valueName: "arg"
    )
  )
  var sbatchArguments: [String] = []

  @Flag(
    help: ArgumentHelp(
      "Submit the job array and return at once with its job id (with --executor slurm).",
      discussion: """
        `pipeline status TARGET` shows the progress from any node; the same reproduce command \
        again follows the array and renders the report.
        """
    )
  )
  var detach = false

  @Option(
    help: ArgumentHelp(
      "Resubmit the cells whose array tasks failed, up to N times (--executor slurm).",
      discussion: "A resubmitted cell resumes from the cache where its task stopped.",
      valueName: "n"
    )
  )
  var retries: Int = 0

  @Option(help: ArgumentHelp("Seconds between two looks at the job array.", visibility: .hidden))
  var pollInterval: Double = 15

  @Flag(
    help: ArgumentHelp(
      "Run as one task of a job array: compute, render no report.",
      visibility: .hidden
    )
  )
  var arrayTask = false

  var isSlurm: Bool { executor == .slurm }

  func validate() throws {
    guard retries >= 0 else { throw ValidationError("--retries must be 0 or more, got \(retries)") }
    if let cpusPerTask, cpusPerTask < 1 {
      throw ValidationError("--cpus-per-task must be at least 1, got \(cpusPerTask)")
    }
    guard pollInterval > 0 else { throw ValidationError("--poll-interval must be positive") }
    guard !isSlurm else { return }
    let slurmOnly: [(String, Bool)] = [
      ("--partition", partition != nil), ("--time", time != nil),
      ("--cpus-per-task", cpusPerTask != nil), ("--mem", mem != nil),
      ("--sbatch-arg", !sbatchArguments.isEmpty), ("--detach", detach), ("--retries", retries > 0),
    ]
    if let (name, _) = slurmOnly.first(where: \.1) {
      throw ValidationError("\(name) applies to Slurm jobs: add --executor slurm")
    }
  }
}
