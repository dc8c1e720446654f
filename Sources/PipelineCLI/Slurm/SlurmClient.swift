import Foundation

/// The Slurm commands the executor runs (`sbatch`, `squeue`, `scancel`, `scontrol`, `sacct`),
/// found on the PATH, with their output parsed.
struct SlurmClient {
  /// Why a Slurm command could not be used.
  struct Failure: Error, CustomStringConvertible {
    var description: String
  }

  /// The output of one command.
  struct Output {
    var status: Int32
    var standardOutput: String
    var standardError: String
    var succeeded: Bool { status == 0 }
  }

  /// Where `sbatch` lies on the PATH, or nil when this machine has no Slurm client.
  static func locate(_ tool: String = "sbatch") -> String? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    for directory in path.split(separator: ":") {
      let candidate = "\(directory)/\(tool)"
      if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    return nil
  }

  /// Fails with what to do when the Slurm client commands are not here.
  static func requireClient() throws {
    for tool in ["sbatch", "squeue", "scancel"] where locate(tool) == nil {
      throw Failure(
        description: "\(tool) is not on the PATH: --executor slurm runs where the Slurm client "
          + "commands are (a cluster's login node); elsewhere leave out --executor slurm"
      )
    }
  }

  /// Runs `tool arguments…` and collects its output.
  static func run(_ tool: String, _ arguments: [String]) throws -> Output {
    guard let path = locate(tool) else {
      throw Failure(description: "\(tool) is not on the PATH")
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    let output = Pipe()
    let error = Pipe()
    process.standardOutput = output
    process.standardError = error
    process.standardInput = FileHandle.nullDevice
    try process.run()
    // Read both pipes while the command runs, so that neither fills up and stalls it.
    let errorData = OnceBox<Data>()
    let group = DispatchGroup()
    group.enter()
    DispatchQueue.global().async {
      errorData.set(error.fileHandleForReading.readDataToEndOfFile())
      group.leave()
    }
    let outputData = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    group.wait()
    return Output(
      status: process.terminationStatus,
      standardOutput: String(decoding: outputData, as: UTF8.self),
      standardError: String(decoding: errorData.value ?? Data(), as: UTF8.self)
    )
  }

  // MARK: - Submitting

  /// Submits `script` with `arguments` (options of sbatch) and returns the job id.
  static func submit(script: URL, arguments: [String]) throws -> String {
    let output = try run("sbatch", ["--parsable"] + arguments + [script.path])
    guard output.succeeded, let id = parseSubmission(output.standardOutput) else {
      throw Failure(
        description: "sbatch refused the job array (exit \(output.status)): "
          + (output.standardError + output.standardOutput).trimmingCharacters(
            in: .whitespacesAndNewlines
          )
      )
    }
    return id
  }

  /// The job id of `sbatch --parsable`'s answer (`1234` or `1234;cluster`).
  static func parseSubmission(_ output: String) -> String? {
    let line = output.split(separator: "\n").last.map(String.init) ?? ""
    let id = line.prefix { $0.isNumber }
    return id.isEmpty ? nil : String(id)
  }

  /// An array index list for `sbatch --array`: runs of consecutive indices as ranges.
  static func arraySpec(_ indices: [Int]) -> String {
    var runs: [ClosedRange<Int>] = []
    for index in Set(indices).sorted() {
      if let last = runs.last, last.upperBound + 1 == index {
        runs[runs.count - 1] = last.lowerBound...index
      } else {
        runs.append(index...index)
      }
    }
    return runs.map { $0.count == 1 ? "\($0.lowerBound)" : "\($0.lowerBound)-\($0.upperBound)" }
      .joined(separator: ",")
  }

  // MARK: - Following

  /// The queued or running tasks of a job array by index, with their state (PENDING, RUNNING,
  /// COMPLETING, …); empty once every task has ended (squeue forgets ended jobs).
  static func queuedTasks(job: String) throws -> [Int: String] {
    let output = try run("squeue", ["--noheader", "--array", "--jobs", job, "--format", "%K|%T"])
    guard output.succeeded else {
      // An id the controller has already forgotten: nothing of it is queued.
      if output.standardError.contains("Invalid job id") { return [:] }
      throw Failure(
        description: "squeue failed (exit \(output.status)): "
          + output.standardError.trimmingCharacters(in: .whitespacesAndNewlines)
      )
    }
    return parseQueue(output.standardOutput)
  }

  /// `squeue --array --format %K|%T` lines as index -> state (a line of an array not split
  /// yet, `0-5|PENDING` or `[2,4]`, stands for each index it names).
  static func parseQueue(_ output: String) -> [Int: String] {
    var tasks: [Int: String] = [:]
    for line in output.split(separator: "\n") {
      let fields = line.split(separator: "|", omittingEmptySubsequences: false)
      guard fields.count >= 2 else { continue }
      let state = String(fields[1]).trimmingCharacters(in: .whitespaces)
      for index in parseIndices(String(fields[0])) { tasks[index] = state }
    }
    return tasks
  }

  /// `3`, `0-5`, `[1,3-4]`, `0-9%2` as indices.
  static func parseIndices(_ text: String) -> [Int] {
    let trimmed = text.trimmingCharacters(in: CharacterSet(charactersIn: "[] "))
    let withoutLimit = trimmed.split(separator: "%").first.map(String.init) ?? ""
    var indices: [Int] = []
    for part in withoutLimit.split(separator: ",") {
      let bounds = part.split(separator: "-")
      if bounds.count == 2, let low = Int(bounds[0]), let high = Int(bounds[1]), low <= high {
        indices += Array(low...high)
      } else if let single = Int(part) {
        indices.append(single)
      }
    }
    return indices
  }

  /// Whether the cluster keeps accounting records (`sacct` answers only then); many small
  /// clusters, and a one-node setup, have none.
  static func hasAccounting() -> Bool {
    guard let output = try? run("scontrol", ["show", "config"]), output.succeeded else {
      return false
    }
    for line in output.standardOutput.split(separator: "\n")
    where line.hasPrefix("AccountingStorageType") {
      return !line.contains("accounting_storage/none")
    }
    return false
  }

  /// How each task of `job` ended, from the accounting records (index -> `FAILED`, `TIMEOUT`,
  /// …); empty without accounting.
  static func endStates(job: String) -> [Int: String] {
    guard hasAccounting(),
      let output = try? run(
        "sacct",
        ["--noheader", "--parsable2", "--allocations", "--jobs", job, "--format", "JobID,State"]
      ), output.succeeded
    else { return [:] }
    var states: [Int: String] = [:]
    for line in output.standardOutput.split(separator: "\n") {
      let fields = line.split(separator: "|")
      guard fields.count >= 2, let underscore = fields[0].firstIndex(of: "_") else { continue }
      let index = fields[0][fields[0].index(after: underscore)...]
      if let index = Int(index) { states[index] = String(fields[1]) }
    }
    return states
  }

  /// Cancels every task of `job`.
  static func cancel(job: String) throws {
    let output = try run("scancel", [job])
    guard output.succeeded else {
      throw Failure(
        description: "scancel \(job) failed: "
          + output.standardError.trimmingCharacters(in: .whitespacesAndNewlines)
      )
    }
  }

  /// How many nodes the cluster has (nil when sinfo does not answer).
  static func nodeCount() -> Int? {
    guard let output = try? run("sinfo", ["--noheader", "--format", "%D"]), output.succeeded
    else { return nil }
    return output.standardOutput.split(separator: "\n").compactMap {
      Int($0.trimmingCharacters(in: .whitespaces))
    }.reduce(0, +)
  }
}

/// A value written by one thread and read by another after it joined.
private final class OnceBox<Value>: @unchecked Sendable {
  private let lock = NSLock()
  private var stored: Value?
  func set(_ value: Value) { lock.withLock { stored = value } }
  var value: Value? { lock.withLock { stored } }
}
