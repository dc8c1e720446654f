import Foundation

/// An exclusive `flock` on one cache key's lock file, released when the value is deinitialised
/// (or when the process dies, so a crash never leaves a stale lock behind).
///
/// Each instance opens its own file description, so two locks on the same key conflict even
/// inside one process.
final class KeyLock {
  /// The lock file.
  let url: URL
  private let descriptor: Int32

  private init(url: URL, descriptor: Int32) {
    self.url = url
    self.descriptor = descriptor
  }

  deinit { SystemCalls.close(descriptor) }

  /// Takes the lock if it is free; nil if someone else holds it. A `shared` lock coexists
  /// with other shared locks and excludes exclusive ones.
  static func tryAcquire(_ url: URL, shared: Bool = false) throws -> KeyLock? {
    let descriptor = try SystemCalls.openLockFile(url)
    let lock = KeyLock(url: url, descriptor: descriptor)
    return try SystemCalls.tryLock(descriptor, url, shared: shared) ? lock : nil
  }

  /// Takes the lock, waiting while someone else holds it.
  ///
  /// - Parameters:
  ///   - onWait: called once, before waiting, if the lock is busy.
  ///   - isCancelled: polled while waiting; when it returns true the wait ends with
  ///     `CancellationError`.
  static func acquire(
    _ url: URL,
    shared: Bool = false,
    onWait: () -> Void,
    isCancelled: () -> Bool
  ) throws -> KeyLock {
    if let lock = try tryAcquire(url, shared: shared) { return lock }
    onWait()
    let descriptor = try SystemCalls.openLockFile(url)
    let lock = KeyLock(url: url, descriptor: descriptor)
    // Polling instead of a blocking flock keeps the wait cancellable.
    while !(try SystemCalls.tryLock(descriptor, url, shared: shared)) {
      if isCancelled() { throw CancellationError() }
      Thread.sleep(forTimeInterval: 0.02)
    }
    return lock
  }
}
