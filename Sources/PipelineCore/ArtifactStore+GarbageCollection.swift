import Foundation

extension ArtifactStore {
  /// Removes (or, with `dryRun`, lists) entries whose key is not in `roots`, stale temporary
  /// directories and everything in quarantine. Entries whose key is locked are skipped.
  func collectGarbage(keeping roots: Set<String>, dryRun: Bool) -> GCReport {
    let fileManager = FileManager.default
    var items: [GCReport.Item] = []
    var locks: [KeyLock] = []  // held until the entries are removed
    for shard in (try? fileManager.contentsOfDirectory(atPath: entriesDirectory.path)) ?? [] {
      let shardURL = entriesDirectory.appendingPathComponent(shard)
      for key in (try? fileManager.contentsOfDirectory(atPath: shardURL.path)) ?? []
      where !roots.contains(key) {
        guard let lock = try? KeyLock.tryAcquire(lockURL(key: key)) else { continue }
        locks.append(lock)
        let url = shardURL.appendingPathComponent(key)
        items.append(
          GCReport.Item(
            category: .unreferencedEntry,
            path: url,
            bytes: Self.directorySize(url),
            stageKind: manifest(forKey: key)?.material.kind
          )
        )
      }
    }
    for url in staleTemporaryDirectories() {
      items.append(
        GCReport.Item(category: .staleTemporary, path: url, bytes: Self.directorySize(url))
      )
    }
    for name in (try? fileManager.contentsOfDirectory(atPath: quarantineDirectory.path)) ?? [] {
      let url = quarantineDirectory.appendingPathComponent(name)
      items.append(GCReport.Item(category: .quarantined, path: url, bytes: Self.directorySize(url)))
    }
    items.sort { $0.path.path < $1.path.path }
    if !dryRun {
      // Shard directories stay, even when empty: a concurrent commit may be renaming into one.
      items = items.filter { (try? fileManager.removeItem(at: $0.path)) != nil }
    }
    withExtendedLifetime(locks) {}
    return GCReport(isDryRun: dryRun, items: items)
  }
}
