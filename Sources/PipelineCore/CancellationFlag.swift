import Synchronization

/// A thread-safe, one-way cancellation flag shared by a runner and its running stages.
final class CancellationFlag: Sendable {
  private let cancelled = Atomic<Bool>(false)

  /// Whether ``cancel()`` has been called.
  var isCancelled: Bool { cancelled.load(ordering: .acquiring) }

  /// Sets the flag; it never resets.
  func cancel() { cancelled.store(true, ordering: .releasing) }
}
