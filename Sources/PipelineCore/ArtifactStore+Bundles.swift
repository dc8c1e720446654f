import Foundation

extension ArtifactStore {
  /// The bundle entry of the committed entry `key`: its manifest and the bytes of the artifacts
  /// that `include` accepts (others travel pruned: digest only). Artifacts are verified first.
  public func bundleEntry(
    key: String,
    including include: (String) -> Bool
  ) throws -> ResultBundle.Entry {
    guard let manifest = manifest(forKey: key) else {
      throw PipelineError.corruptArtifact(
        path: entryDirectory(forKey: key).path,
        reason: "the entry is not committed"
      )
    }
    var artifacts: [String: [UInt8]] = [:]
    for name in manifest.outputs.keys.sorted() where include(name) && !manifest.isPruned(name) {
      let url = try verifiedArtifactURL(key: key, name: name)
      artifacts[name] = [UInt8](try Data(contentsOf: url))
    }
    return ResultBundle.Entry(manifest: manifest, artifacts: artifacts)
  }

  /// What importing one bundle did.
  public struct ImportReport: Sendable, Equatable {
    /// Entries added to the cache.
    public var added = 0
    /// Entries the cache already had, with the same digests.
    public var alreadyPresent = 0
    /// Artifacts that arrived pruned (digest only).
    public var prunedArtifacts = 0
  }

  /// Adds the entries of `bundle` (read from `source`) to the cache.
  ///
  /// Every entry is verified before anything is written: its key must be the hash of its key
  /// material, every carried artifact must have its recorded logical digest, and an entry the
  /// cache already has must record the same digests. Then each new entry is committed by the
  /// cache's own protocol (artifacts renamed into place, manifest written last, under the key's
  /// lock), so an interrupted import leaves whole entries or none. Existing entries are never
  /// overwritten.
  ///
  /// - Throws: ``PipelineError/invalidBundle(path:problem:)`` naming the entry and the fix;
  ///   the cache is then unchanged.
  public func importBundle(_ bundle: ResultBundle, from source: URL) throws -> ImportReport {
    func invalid(_ entry: ResultBundle.Entry, _ problem: String) -> PipelineError {
      .invalidBundle(
        path: source.path,
        problem: "entry \(entry.manifest.stageID) [\(entry.manifest.key.prefix(12))] \(problem)"
      )
    }
    _ = removeStaleTemporaryDirectories(observer: SilentPipelineObserver())  // of killed imports
    var staged: [(entry: ResultBundle.Entry, directory: URL)] = []
    var report = ImportReport()
    defer { for item in staged { try? FileManager.default.removeItem(at: item.directory) } }
    for entry in bundle.entries {
      let manifest = entry.manifest
      guard manifest.material.key == manifest.key else {
        throw invalid(entry, "has key material that does not hash to its key (edited by hand?)")
      }
      // Names become file names: nothing may point outside the entry.
      let names = Set(manifest.outputs.keys).union(manifest.pruned ?? []).union(
        entry.artifacts.keys
      )
      for name in names.sorted() where !Self.isValidArtifactName(name) {
        throw invalid(entry, "names an artifact \"\(name)\" that is not a plain name (edited?)")
      }
      for name in entry.artifacts.keys where manifest.outputs[name] == nil {
        throw invalid(entry, "carries artifact \"\(name)\", which its manifest does not list")
      }
      var fillsPrunedLocalEntry = false
      if let local = self.manifest(forKey: manifest.key) {
        let differing = manifest.outputs.keys.sorted().filter {
          local.outputs[$0]?.sha256 != manifest.outputs[$0]?.sha256
        }
        guard differing.isEmpty else {
          throw invalid(
            entry,
            "records other digests for \(differing.joined(separator: ", ")) than the local "
              + "cache's entry of the same key; one of them was made by other code. Remove the "
              + "local entry (or import into another --data-dir) to use the bundle's"
          )
        }
        // A local thin entry gets the bytes the bundle carries; anything else is kept as is.
        fillsPrunedLocalEntry = !Set(local.pruned ?? []).isDisjoint(with: entry.artifacts.keys)
        if !fillsPrunedLocalEntry {
          report.alreadyPresent += 1
          continue
        }
      }
      // Not named after the key: staging holds no key lock, so other processes judge the
      // folder by its process id alone (as replays').
      let directory = try makeTemporaryDirectory(key: nil)
      staged.append((entry, directory))
      for (name, bytes) in entry.artifacts.sorted(by: { $0.key < $1.key }) {
        let url = directory.appendingPathComponent(Self.fileName(ofArtifact: name))
        try Data(bytes).write(to: url)
        let digest: ArtifactDigest
        do {
          digest = try ArtifactDigest(ofFileAt: url)
        } catch {
          throw invalid(
            entry,
            "carries artifact \"\(name)\" that is not readable HDF5 (damaged); \(ResultBundle.fix)"
          )
        }
        guard digest.sha256 == manifest.outputs[name]!.sha256,
          bytes.count == manifest.outputs[name]!.bytes
        else {
          throw invalid(
            entry,
            "carries artifact \"\(name)\" whose content does not match its recorded digest "
              + "(tampered or damaged); \(ResultBundle.fix)"
          )
        }
      }
    }
    for (entry, directory) in staged {
      var manifest = entry.manifest
      let carried = Set(entry.artifacts.keys)
      let pruned = Set(manifest.outputs.keys).subtracting(carried)
      manifest.pruned = pruned.isEmpty ? nil : pruned.sorted()
      let lock = try KeyLock.acquire(
        lockURL(key: manifest.key),
        onWait: {},
        isCancelled: { false }
      )
      defer { withExtendedLifetime(lock) {} }
      if let local = self.manifest(forKey: manifest.key) {
        if !Set(local.pruned ?? []).isDisjoint(with: carried) {
          _ = try restorePruned(directory, key: manifest.key)  // digests checked above
          report.added += 1
        } else {
          report.alreadyPresent += 1  // another process committed it meanwhile
        }
        continue
      }
      _ = try commit(directory, key: manifest.key, outputs: carried.sorted()) { _ in manifest }
      report.added += 1
      report.prunedArtifacts += pruned.count
    }
    staged.removeAll()
    return report
  }

  /// Prunes the artifacts `names` of every committed entry that has them.
  ///
  /// - Returns: the entries changed and the bytes freed.
  public func pruneAll(names: Set<String>, dryRun: Bool) throws -> (entries: Int, bytes: Int) {
    var entries = 0
    var bytes = 0
    let shards = (try? FileManager.default.contentsOfDirectory(atPath: entriesDirectory.path)) ?? []
    for shard in shards.sorted() {
      let folder = entriesDirectory.appendingPathComponent(shard)
      for key in ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [])
        .sorted()
      {
        guard let manifest = manifest(forKey: key) else { continue }
        let targets = manifest.outputs.keys.filter { names.contains($0) && !manifest.isPruned($0) }
        guard !targets.isEmpty else { continue }
        guard let lock = try KeyLock.tryAcquire(lockURL(key: key)) else { continue }
        defer { withExtendedLifetime(lock) {} }
        // Files of names already pruned are the remains of a crash between the manifest
        // rewrite and the deletion: remove them too.
        for name in manifest.pruned ?? [] where !dryRun {
          try? FileManager.default.removeItem(at: artifactURL(key: key, name: name))
        }
        entries += 1
        if dryRun {
          bytes += targets.map { Self.fileSize(artifactURL(key: key, name: $0)) ?? 0 }.reduce(0, +)
        } else {
          bytes += try prune(key: key, names: Set(targets))
        }
      }
    }
    return (entries, bytes)
  }
}
