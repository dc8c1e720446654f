/// Everything that can go wrong in the pipeline engine, with enough context to act on.
public enum PipelineError: Error, CustomStringConvertible {
  /// Two nodes in a graph share an id.
  case duplicateStage(StageID)
  /// An input refers to a stage that is not in the graph.
  case unknownUpstream(stage: StageID, input: String, upstream: StageID)
  /// An input refers to an artifact that its upstream stage does not declare.
  case unknownArtifact(
    stage: StageID,
    input: String,
    upstream: StageID,
    artifact: String,
    available: [String]
  )
  /// A stage declares an output name that cannot be used as a file name, or declares it twice.
  case invalidArtifactName(stage: StageID, name: String)
  /// The graph has a dependency cycle through the listed stages.
  case cycle([StageID])
  /// An operation named a stage that is not in the graph.
  case unknownStage(StageID)
  /// A stage asked for an input name its node does not declare.
  case unknownInput(stage: StageID, name: String, declared: [String])
  /// A stage's parameters could not be encoded canonically.
  case invalidParameters(kind: String, reason: String)
  /// An external input file could not be read for hashing.
  case inputFileUnreadable(stage: StageID, input: String, path: String, reason: String)
  /// A stage returned without writing one of its declared outputs.
  case missingOutput(stage: StageID, artifact: String, path: String)
  /// A stage threw an error; nothing of that stage was committed.
  case stageFailed(StageID, underlying: any Error)
  /// The run was cancelled; committed stages stay committed, the listed ones were interrupted.
  case cancelled(interrupted: [StageID])
  /// The operation needs the committed result of a stage that has not run yet.
  case notCached(StageID)
  /// A cached artifact failed verification; it has been quarantined.
  case corruptArtifact(path: String, reason: String)
  /// A file-system operation failed.
  case fileSystem(operation: String, path: String, reason: String)
  /// A result bundle is unusable; nothing was imported from it.
  case invalidBundle(path: String, problem: String)
  /// An artifact's bytes were pruned (or never imported); its manifest still has its digest.
  case prunedArtifact(key: String, name: String)
  /// A pruned artifact was recomputed and its digest differs from the recorded one.
  case recomputedDiffers(
    stage: StageID,
    artifact: String,
    recorded: [String: String],
    current: [String: String]
  )
  /// Garbage collection was asked to forget a run record that does not exist.
  case unknownRunRecord(String, known: [String])

  /// A description that says what happened and how to fix it.
  public var description: String {
    switch self {
    case .duplicateStage(let id):
      "two stages have the id \"\(id)\"; give each node a unique id"
    case .unknownUpstream(let stage, let input, let upstream):
      "input \"\(input)\" of stage \(stage) refers to stage \(upstream), which is not in the "
        + "graph; add that node or fix the input"
    case .unknownArtifact(let stage, let input, let upstream, let artifact, let available):
      "input \"\(input)\" of stage \(stage) asks for artifact \"\(artifact)\" of \(upstream), "
        + "which only declares \(available); use one of those names"
    case .invalidArtifactName(let stage, let name):
      "stage \(stage) declares the output \"\(name)\" more than once or with characters not "
        + "allowed in a file name; use unique names of letters, digits, '-', '_' and '.'"
    case .cycle(let ids):
      "the graph has a dependency cycle: \(ids.map(\.rawValue).joined(separator: " -> ")); "
        + "remove one of these inputs"
    case .unknownStage(let id):
      "no stage \"\(id)\" in the pipeline graph; check the id (see `pipeline status TARGET`)"
    case .unknownInput(let stage, let name, let declared):
      "stage \(stage) asked for input \"\(name)\", but its node declares only \(declared); "
        + "declare the input on the node"
    case .invalidParameters(let kind, let reason):
      "the parameters of stage kind \"\(kind)\" cannot be encoded canonically: \(reason)"
    case .inputFileUnreadable(let stage, let input, let path, let reason):
      "cannot read input \"\(input)\" of stage \(stage) at \(path): \(reason); "
        + "check that the file exists and is readable"
    case .missingOutput(let stage, let artifact, let path):
      "stage \(stage) returned without writing its declared output \"\(artifact)\" "
        + "(expected at \(path)); this is a bug in the stage"
    case .stageFailed(let id, let underlying):
      "stage \(id) failed: \(underlying)"
    case .cancelled(let interrupted):
      interrupted.isEmpty
        ? "the run was cancelled; committed stages are kept and will be reused on the next run"
        : "the run was cancelled while \(interrupted.map(\.rawValue).joined(separator: ", ")) "
          + "ran; committed stages are kept and will be reused on the next run"
    case .notCached(let id):
      "stage \(id) has no committed result yet; compute it first (`pipeline reproduce TARGET` "
        + "with the same --profile and --set options)"
    case .corruptArtifact(let path, let reason):
      "the cached artifact \(path) is corrupt (\(reason)); it was moved to quarantine, "
        + "run the pipeline again to recompute it"
    case .invalidBundle(let path, let problem):
      "result bundle \(path): \(problem). Nothing was imported; the local cache is unchanged"
    case .prunedArtifact(let key, let name):
      "artifact \"\(name)\" of cache entry \(key.prefix(12)) was pruned: its digest is recorded but"
        + " its bytes are not stored; the stage that produces it must be recomputed (the runner"
        + " does so when a stage needs it)"
    case .recomputedDiffers(let stage, let artifact, let recorded, let current):
      "stage \(stage) was recomputed to restore its pruned artifact \"\(artifact)\", but the"
        + " result differs from the recorded digest. Results can differ in the last bits between"
        + " machines, oneDNN instruction sets, thread counts and code versions: recorded "
        + Self.facts(recorded) + "; this machine " + Self.facts(current)
        + ". Recompute on a machine like the recorded one (e.g. OMP_NUM_THREADS="
        + (recorded["threads"] ?? "?") + "), or import the bundle with its artifacts"
        + " (`pipeline export TARGET --output DIR --include models,scores` on the machine that has"
        + " them)"
    case .fileSystem(let operation, let path, let reason):
      "\(operation) failed for \(path): \(reason); check permissions and free disk space"
    case .unknownRunRecord(let name, let known):
      "no recorded run is named \"\(name)\"; nothing was removed. Recorded runs: "
        + (known.isEmpty ? "none" : known.joined(separator: ", "))
        + " (`pipeline gc --dry-run` describes each)"
    }
  }

  static func facts(_ environment: [String: String]) -> String {
    environment.isEmpty
      ? "(not recorded)"
      : environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        .joined(separator: ", ")
  }
}
