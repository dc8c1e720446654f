/// What `status` says about one stage.
public enum StageStatus: Sendable, Equatable {
  /// Committed under `key`; a run reuses it.
  case cached(key: String)
  /// Not committed under `key`; a run executes it. `changes` lists the key components that
  /// differ from the last recorded run of this stage (empty when there is no such run, or when
  /// the key is unchanged but its entry disappeared).
  case willRun(key: String, changes: [KeyChange])
  /// The key cannot be computed until the listed upstream stages have committed outputs.
  /// `changes` compares only what is already known: kind, version, parameters and seed.
  case waitingOnUpstream([StageID], changes: [KeyChange])

  /// Whether the stage is committed, so that a run reuses its outputs.
  public var isCached: Bool {
    if case .cached = self { true } else { false }
  }
}
