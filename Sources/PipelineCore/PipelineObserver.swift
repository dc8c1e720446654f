import Foundation

/// Receives progress and log events from a ``PipelineRunner``.
///
/// Events arrive on the runner's worker threads, possibly concurrently; implementations must be
/// thread-safe.
public protocol PipelineObserver: Sendable {
  /// Handles one event.
  func pipeline(_ event: PipelineEvent)
}

/// Something that happened while planning or running a pipeline.
public enum PipelineEvent: Sendable, CustomStringConvertible {
  /// A stage started executing under the given cache key.
  case stageStarted(StageID, key: String)
  /// A stage's result was found in the cache and reused.
  case stageCached(StageID, key: String)
  /// A stage finished executing and its outputs were committed.
  case stageFinished(StageID, key: String, seconds: Double)
  /// A stage failed; the message describes the error.
  case stageFailed(StageID, message: String)
  /// Another process holds the stage's key lock; the runner waits for it.
  case waiting(StageID)
  /// Another process holds a cache-wide lock (a run while gc waits, or gc while a run waits);
  /// the message says whom this one waits for.
  case waitingForLock(String)
  /// Something was wrong and has been repaired (for example a corrupt entry was quarantined).
  case warning(String)
  /// A temporary directory left by a dead process was removed.
  case removedStaleTemporary(URL)
  /// A line logged by a running stage.
  case stageLog(StageID, String)
  /// A running stage reported its progress (a fraction in `0...1`).
  case progress(StageID, fraction: Double)

  /// One human-readable line describing the event.
  public var description: String {
    switch self {
    case .stageStarted(let id, let key): "started \(id) [\(key.prefix(12))]"
    case .stageCached(let id, let key): "cached \(id) [\(key.prefix(12))]"
    case .stageFinished(let id, let key, let seconds):
      "finished \(id) [\(key.prefix(12))] in \(String(format: "%.2f", seconds)) s"
    case .stageFailed(let id, let message): "failed \(id): \(message)"
    case .waiting(let id): "waiting for \(id) (another process is computing it)"
    case .waitingForLock(let message): message
    case .warning(let message): "warning: \(message)"
    case .removedStaleTemporary(let url): "removed stale temporary directory \(url.path)"
    case .stageLog(let id, let message): "\(id): \(message)"
    case .progress(let id, let fraction): "\(id): \(Int((fraction * 100).rounded()))%"
    }
  }
}

/// An observer that ignores every event.
public struct SilentPipelineObserver: PipelineObserver {
  /// Creates a silent observer.
  public init() {}

  /// Ignores `event`.
  public func pipeline(_ event: PipelineEvent) {}
}
