/// The result of ``PipelineRunner/replay(_:stages:)``.
public struct ReplayReport: Sendable {
  /// One replayed stage.
  public struct StageReplay: Sendable {
    /// The stage.
    public var id: StageID
    /// Its cache key.
    public var key: String
    /// One comparison per output artifact, sorted by name.
    public var artifacts: [ArtifactComparison]
    /// The code and machine facts recorded with the cached entry (empty if not recorded).
    public var recordedEnvironment: [String: String] = [:]
    /// The same facts of this process.
    public var currentEnvironment: [String: String] = [:]
    /// Whether every output was reproduced exactly.
    public var isIdentical: Bool { artifacts.allSatisfy(\.isIdentical) }
  }

  /// The replay of one artifact compared with its committed version.
  public struct ArtifactComparison: Sendable {
    /// The artifact name.
    public var name: String
    /// The digest recorded in the manifest.
    public var cachedSHA256: String
    /// The digest of the replayed output.
    public var replayedSHA256: String
    /// The datasets (`"/"` for root attributes) whose content differs, sorted; empty if
    /// identical.
    public var differingDatasets: [String]
    /// For differing numeric datasets present in both files, the largest absolute difference
    /// between the cached and the replayed values.
    public var largestDifferences: [String: Double] = [:]
    /// Whether the cached artifact's bytes were pruned (only its digest could be compared).
    public var cachedWasPruned = false
    /// Whether the replay reproduced the artifact bit for bit.
    public var isIdentical: Bool { cachedSHA256 == replayedSHA256 }
  }

  /// The replayed stages, in the order requested.
  public var stages: [StageReplay]
  /// Whether every replayed stage reproduced every output exactly.
  public var isIdentical: Bool { stages.allSatisfy(\.isIdentical) }
}
