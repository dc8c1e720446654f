/// What ``PipelineRunner/run(_:recordAs:)`` did.
public struct RunSummary: Sendable {
  /// One stage's outcome, in topological order.
  public var stages: [StageOutcome]

  /// The ids of the stages that executed (rather than being reused from the cache).
  public var executed: [StageID] { stages.filter { !$0.wasCached }.map(\.id) }
  /// The ids of the stages reused from the cache.
  public var cached: [StageID] { stages.filter(\.wasCached).map(\.id) }

  /// The outcome of the stage `id`, if it is in the summary.
  public subscript(id: StageID) -> StageOutcome? { stages.first { $0.id == id } }
}

/// How one stage was satisfied in a run.
public struct StageOutcome: Sendable {
  /// The stage.
  public var id: StageID
  /// Its cache key.
  public var key: String
  /// Whether the result was reused (found committed, possibly by another process) rather than
  /// executed by this run.
  public var wasCached: Bool
  /// Execution time in seconds (0 when cached).
  public var durationSeconds: Double
  /// The committed outputs, by artifact name.
  public var outputs: [String: ArtifactRecord]
}
