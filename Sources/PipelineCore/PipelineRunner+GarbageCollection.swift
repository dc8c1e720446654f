import Foundation

extension PipelineRunner {
  // MARK: - Garbage collection

  /// Removes cache entries that no run record refers to, stale temporary directories and
  /// quarantined entries; with `dryRun`, only lists them.
  ///
  /// Entries whose key is locked (being computed) are skipped. Do not collect while a run that
  /// has not yet written its record is in progress: its fresh entries are not roots yet.
  public func collectGarbage(dryRun: Bool) throws -> GCReport {
    let roots = Set(RunRecord.loadAll(from: runsDirectory).flatMap { $0.stages.values.map(\.key) })
    return store.collectGarbage(keeping: roots, dryRun: dryRun)
  }
}
