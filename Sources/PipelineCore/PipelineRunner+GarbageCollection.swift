import Foundation

extension PipelineRunner {
  // MARK: - Garbage collection

  /// Removes cache entries that no run record refers to, stale temporary directories and
  /// quarantined entries; with `dryRun`, only lists them.
  ///
  /// Waits until no other process runs on this cache (every run holds the cache's activity
  /// lock shared; gc takes it exclusively), telling the observer once if it has to wait, so
  /// that entries a running process has committed but not yet recorded are never removed.
  public func collectGarbage(dryRun: Bool) throws -> GCReport {
    try exclusively {
      let roots = Set(
        RunRecord.loadAll(from: runsDirectory).flatMap { $0.stages.values.map(\.key) }
      )
      return store.collectGarbage(keeping: roots, dryRun: dryRun)
    }
  }

  /// Runs `body` (maintenance: gc, pruning) once no other process uses this cache, waiting and
  /// telling the observer once if some do, and keeping new runs waiting until it returns.
  public func exclusively<T>(_ body: () throws -> T) throws -> T {
    let lock = try KeyLock.acquire(
      store.activityLockURL,
      shared: false,
      onWait: {
        observer.pipeline(
          .waitingForLock(
            "waiting for the pipeline processes using \(store.root.path) to finish "
              + "(maintenance must not remove what they use); Ctrl-C to give up"
          )
        )
      },
      isCancelled: { cancellation.isCancelled }
    )
    defer { withExtendedLifetime(lock) {} }
    return try body()
  }

  /// Runs `body` while holding the cache's activity lock shared, so that garbage collection
  /// cannot remove entries `body` reads (for example while a report is rendered).
  public func sharingCache<T>(_ body: () throws -> T) throws -> T {
    let lock = try holdActivityLock()
    defer { withExtendedLifetime(lock) {} }
    return try body()
  }

  /// Takes the cache's activity lock shared (waiting while garbage collection runs).
  func holdActivityLock() throws -> KeyLock {
    try KeyLock.acquire(
      store.activityLockURL,
      shared: true,
      onWait: {
        observer.pipeline(
          .waitingForLock("waiting for `pipeline gc` on \(store.root.path) to finish")
        )
      },
      isCancelled: { cancellation.isCancelled }
    )
  }
}
