import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// What the data directory remembers of the job arrays submitted for one run (target, profile,
/// overrides, cells): `<data-dir>/slurm/<record name>/job.json`, beside the batch script and the
/// tasks' logs, so that `status`, `cancel` and a later `reproduce` find the job from any node.
struct SlurmJobRecord: Codable, Equatable {
  /// One `sbatch --array` submission.
  struct Submission: Codable, Equatable {
    /// The job id.
    var id: String
    /// The array indices submitted (indices into ``cells``).
    var indices: [Int]
    var submitted: Date
  }

  /// The cells by array index.
  var cells: [String]
  /// Every submission, oldest first; the last one is the current.
  var submissions: [Submission] = []
  /// When a following command last found every cell complete and rendered the report (the
  /// run's wall time counts from the first submission after it).
  var finished: Date?
  /// Rounds (per cell) whose shared stages the submitting commands executed since then.
  var sharedRounds: [String: [Int]]?

  var current: Submission? { submissions.last }

  /// The submissions since the run last finished.
  var campaign: [Submission] {
    submissions.filter { finished == nil || $0.submitted > finished! }
  }

  /// The folder of a run's Slurm files.
  static func folder(_ dataDirectory: URL, _ recordName: String) -> URL {
    dataDirectory.appendingPathComponent("slurm").appendingPathComponent(recordName)
  }

  static func url(_ dataDirectory: URL, _ recordName: String) -> URL {
    folder(dataDirectory, recordName).appendingPathComponent("job.json")
  }

  static func load(_ dataDirectory: URL, _ recordName: String) -> SlurmJobRecord? {
    guard let data = try? Data(contentsOf: url(dataDirectory, recordName)) else { return nil }
    let decoder = JSONDecoder()
    decoder.dateDecodingStrategy = .iso8601
    return try? decoder.decode(SlurmJobRecord.self, from: data)
  }

  /// Writes atomically (temporary file, then rename).
  func save(_ dataDirectory: URL, _ recordName: String) throws {
    let target = Self.url(dataDirectory, recordName)
    try FileManager.default.createDirectory(
      at: target.deletingLastPathComponent(),
      withIntermediateDirectories: true
    )
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    encoder.dateEncodingStrategy = .iso8601
    try encoder.encode(self).write(to: target, options: .atomic)
  }

  /// Every run of the data directory with a job record whose name is `base` or a `--cells`
  /// run of it, by record name.
  static func all(_ dataDirectory: URL, base: String) -> [(name: String, record: SlurmJobRecord)] {
    let root = dataDirectory.appendingPathComponent("slurm")
    let names = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
    return names.sorted().filter { $0 == base || $0.hasPrefix(base + ".cells-") }.compactMap {
      name in load(dataDirectory, name).map { (name, $0) }
    }
  }

  /// Runs `body` holding the exclusive lock of a run's Slurm folder, so that two commands
  /// following the same run never both submit its cells.
  static func locked<T>(
    _ dataDirectory: URL,
    _ recordName: String,
    _ body: () throws -> T
  )
    throws -> T
  {
    let folder = folder(dataDirectory, recordName)
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let path = folder.appendingPathComponent("submit.lock").path
    let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
    guard descriptor >= 0 else {
      throw SlurmClient.Failure(
        description: "cannot open \(path): \(String(cString: strerror(errno)))"
      )
    }
    defer { close(descriptor) }
    while flock(descriptor, LOCK_EX) != 0 {
      guard errno == EINTR else {
        throw SlurmClient.Failure(
          description: "cannot lock \(path): \(String(cString: strerror(errno)))"
        )
      }
    }
    defer { flock(descriptor, LOCK_UN) }
    return try body()
  }
}

/// The batch script of a job array: task i computes cell i in the shared data directory.
enum SlurmBatchScript {
  /// The script's text.
  ///
  /// - Parameters:
  ///   - cells: the cells by array index.
  ///   - command: the command of one task, `--cells` excluded (appended per task).
  static func render(target: String, cells: [String], command: [String]) -> String {
    let quoted = cells.map(SuggestedCommand.shellWord).joined(separator: " ")
    return """
      #!/bin/bash
      # Written by pipeline reproduce --executor slurm: array task i computes cell i of
      # \(target) in the shared data directory. A task that stops (failure, time limit,
      # scancel) keeps what it committed; resubmitted, it resumes from the cache.
      set -eu
      cells=(\(quoted))
      cell=${cells[$SLURM_ARRAY_TASK_ID]}
      # The engine runs as many threads as the task was given CPUs.
      if [ -n "${SLURM_CPUS_PER_TASK:-}" ]; then export OMP_NUM_THREADS=$SLURM_CPUS_PER_TASK; fi
      echo "array task ${SLURM_ARRAY_JOB_ID:-?}_$SLURM_ARRAY_TASK_ID: cell $cell on $(hostname)" >&2
      exec \(SuggestedCommand.shellLine(command)) --cells "$cell"

      """
  }
}
