import Foundation

extension PipelineRunner {
  // MARK: - Garbage collection

  /// The run records of this cache, newest first.
  public func recordedRuns() -> [RunRecord] { RunRecord.loadAll(from: runsDirectory) }

  /// Removes cache entries that no run record refers to, stale temporary directories and
  /// quarantined entries; with `dryRun`, only lists them. Every recorded run keeps its
  /// entries unless it is named in `forgetting`: those records are deleted first (in a dry
  /// run, as if deleted), and the entries that only they referred to are removed with the rest
  /// and listed under each forgotten run.
  ///
  /// Waits until no other process runs on this cache (every run holds the cache's activity
  /// lock shared; gc takes it exclusively), telling the observer once if it has to wait, so
  /// that entries a running process has committed but not yet recorded are never removed.
  ///
  /// - Parameter removingRecord: called with each forgotten record's name once its record is
  ///   removed, still under the exclusive lock (for files the caller keeps beside records).
  /// - Throws: ``PipelineError/unknownRunRecord(_:known:)`` (before removing anything) when a
  ///   name in `forgetting` is not a recorded run.
  public func collectGarbage(
    dryRun: Bool,
    forgetting names: [String] = [],
    removingRecord: (String) -> Void = { _ in }
  ) throws -> GCReport {
    // A name given twice is forgotten once.
    var seen: Set<String> = []
    let forgetting = names.filter { seen.insert($0).inserted }
    return try exclusively {
      let records = recordedRuns()
      let known = Set(records.map(\.name))
      if let unknown = forgetting.first(where: { !known.contains($0) }) {
        throw PipelineError.unknownRunRecord(unknown, known: known.sorted())
      }
      let forgotten = Set(forgetting)
      let kept = records.filter { !forgotten.contains($0.name) }
      let roots = kept.reduce(into: Set<String>()) { $0.formUnion($1.keys) }
      if !dryRun {
        // Records first: a crash between the two leaves garbage for the next gc, never a
        // record that names removed entries.
        for name in forgetting {
          let url = runsDirectory.appendingPathComponent("\(name).json")
          do {
            try FileManager.default.removeItem(at: url)
          } catch {
            throw PipelineError.fileSystem(
              operation: "remove run record",
              path: url.path,
              reason: error.localizedDescription
            )
          }
          removingRecord(name)
        }
      }
      var report = store.collectGarbage(keeping: roots, dryRun: dryRun)
      var attributed: Set<String> = []
      for name in forgetting {
        guard let record = records.first(where: { $0.name == name }) else { continue }
        let keys = record.keys.subtracting(roots).subtracting(attributed)
        attributed.formUnion(keys)
        report.forgottenRuns.append(
          GCReport.ForgottenRun(
            record: record,
            entries: report.items.filter {
              $0.category == .unreferencedEntry && keys.contains($0.path.lastPathComponent)
            }
          )
        )
      }
      report.keptRuns = kept
      return report
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
