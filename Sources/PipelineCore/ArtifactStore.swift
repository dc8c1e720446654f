import Foundation
import Synchronization

/// The content-addressed cache of committed stage results on disk.
///
/// Layout under ``root``:
/// - `entries/<key[0..<2]>/<key>/`: the artifacts `<name>.h5` and `manifest.json`;
/// - `locks/<key>.lock`: one `flock` per key, held while the key is computed;
/// - `tmp/<key>.<pid>.<random>/`: where a running stage writes;
/// - `quarantine/`: entries that failed verification, kept for inspection until GC.
///
/// An entry exists only once its manifest does; the manifest is written last, atomically, after
/// every artifact is durable, so a crash at any point leaves either a complete entry or
/// something that is ignored and cleaned up.
public final class ArtifactStore: Sendable {
  /// The store's root directory (the CLI uses `<data-dir>/cache`).
  public let root: URL

  /// Artifacts whose digest this store instance has already verified (`key/name`).
  private let verified = Mutex<Set<String>>([])

  /// Opens the store at `root`.
  ///
  /// - Parameter createDirectories: whether to create the store's directories where missing
  ///   (false for a look that must leave no trace, such as `pipeline status` on a data
  ///   directory nothing was computed in: a missing store then simply holds no entry).
  /// - Throws: ``PipelineError/fileSystem(operation:path:reason:)`` when a directory cannot be
  ///   created.
  public init(root: URL, createDirectories: Bool = true) throws {
    self.root = root.standardizedFileURL
    guard createDirectories else { return }
    for directory in [entriesDirectory, locksDirectory, temporaryDirectory, quarantineDirectory] {
      do {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
      } catch {
        throw PipelineError.fileSystem(
          operation: "create directory",
          path: directory.path,
          reason: error.localizedDescription
        )
      }
    }
  }

  // MARK: - Layout

  var entriesDirectory: URL { root.appendingPathComponent("entries") }
  var locksDirectory: URL { root.appendingPathComponent("locks") }
  /// Held shared by every process that runs, replays or renders from this cache, and
  /// exclusively by garbage collection, so that gc never removes what a running process uses.
  var activityLockURL: URL { root.appendingPathComponent("activity.lock") }
  var temporaryDirectory: URL { root.appendingPathComponent("tmp") }
  var quarantineDirectory: URL { root.appendingPathComponent("quarantine") }

  /// The directory of the entry with cache key `key`.
  public func entryDirectory(forKey key: String) -> URL {
    entriesDirectory.appendingPathComponent(String(key.prefix(2)))
      .appendingPathComponent(key)
  }

  /// The committed location of artifact `name` of the entry `key` (whether or not it exists).
  public func artifactURL(key: String, name: String) -> URL {
    entryDirectory(forKey: key).appendingPathComponent(Self.fileName(ofArtifact: name))
  }

  func manifestURL(key: String) -> URL {
    entryDirectory(forKey: key).appendingPathComponent("manifest.json")
  }

  func lockURL(key: String) -> URL {
    locksDirectory.appendingPathComponent("\(key).lock")
  }

  /// The file name of an artifact.
  static func fileName(ofArtifact name: String) -> String { "\(name).h5" }

  /// Whether `name` can be an artifact name: letters, digits, `-`, `_`, `.`; not starting with
  /// a dot; not `manifest`.
  static func isValidArtifactName(_ name: String) -> Bool {
    !name.isEmpty && !name.hasPrefix(".") && name != "manifest"
      && name.unicodeScalars.allSatisfy {
        ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0)
          || $0 == "-" || $0 == "_" || $0 == "."
      }
  }

  // MARK: - Reading entries

  /// What is on disk for one key.
  enum EntryState {
    /// A complete entry: manifest parsed, key matches, artifacts present with recorded sizes.
    case committed(StageManifest)
    /// No manifest: the stage has not been committed (leftover artifacts are ignored).
    case absent
    /// A manifest exists but the entry is not usable; the reason says why.
    case invalid(reason: String)
  }

  /// Inspects the entry `key` without changing anything; `outputs` are the artifact names the
  /// stage declares.
  func inspectEntry(key: String, outputs: [String]) -> EntryState {
    let manifestURL = manifestURL(key: key)
    guard FileManager.default.fileExists(atPath: manifestURL.path) else { return .absent }
    let manifest: StageManifest
    do {
      manifest = try PipelineJSON.decoder().decode(
        StageManifest.self,
        from: Data(contentsOf: manifestURL)
      )
    } catch {
      return .invalid(reason: "its manifest cannot be parsed (\(error))")
    }
    guard manifest.key == key, manifest.material.key == key else {
      return .invalid(reason: "its manifest records key \(manifest.key)")
    }
    guard Set(manifest.outputs.keys) == Set(outputs) else {
      return .invalid(
        reason: "its manifest lists outputs \(manifest.outputs.keys.sorted()), "
          + "the stage declares \(outputs.sorted())"
      )
    }
    for (name, record) in manifest.outputs.sorted(by: { $0.key < $1.key })
    where !manifest.isPruned(name) {
      let size = Self.fileSize(artifactURL(key: key, name: name))
      guard size == record.bytes else {
        return .invalid(
          reason: size == nil
            ? "artifact \"\(name)\" is missing"
            : "artifact \"\(name)\" has \(size!) bytes, the manifest records \(record.bytes)"
        )
      }
    }
    return .committed(manifest)
  }

  /// The committed manifest of `key`, or nil if the entry is absent or invalid.
  public func manifest(forKey key: String) -> StageManifest? {
    let manifestURL = manifestURL(key: key)
    guard let data = try? Data(contentsOf: manifestURL),
      let manifest = try? PipelineJSON.decoder().decode(StageManifest.self, from: data)
    else { return nil }
    guard case .committed = inspectEntry(key: key, outputs: Array(manifest.outputs.keys)) else {
      return nil
    }
    return manifest
  }

  /// The location of artifact `name` of entry `key`, after checking its logical digest against
  /// the manifest (once per store instance and artifact).
  ///
  /// A corrupt artifact's entry is moved to quarantine with one warning through `observer`.
  ///
  /// - Throws: ``PipelineError/corruptArtifact(path:reason:)`` when the entry is missing or the
  ///   artifact failed verification.
  public func verifiedArtifactURL(
    key: String,
    name: String,
    observer: any PipelineObserver = SilentPipelineObserver()
  ) throws -> URL {
    let url = artifactURL(key: key, name: name)
    if verified.withLock({ $0.contains("\(key)/\(name)") }) { return url }
    if manifest(forKey: key)?.isPruned(name) == true {
      throw PipelineError.prunedArtifact(key: key, name: name)
    }
    if verificationProblem(key: key, name: name) != nil {
      // Re-check under the key's lock: another process may have replaced the entry meanwhile.
      let lock = try KeyLock.acquire(lockURL(key: key), onWait: {}, isCancelled: { false })
      if let problem = verificationProblem(key: key, name: name) {
        quarantine(key: key, reason: problem, observer: observer)
        withExtendedLifetime(lock) {}
        throw PipelineError.corruptArtifact(path: url.path, reason: problem)
      }
      withExtendedLifetime(lock) {}
    }
    verified.withLock { _ = $0.insert("\(key)/\(name)") }
    return url
  }

  /// Why artifact `name` of `key` fails verification, or nil if it matches its manifest.
  private func verificationProblem(key: String, name: String) -> String? {
    let manifestURL = manifestURL(key: key)
    guard let data = try? Data(contentsOf: manifestURL) else {
      return "the entry has no readable manifest"
    }
    guard let manifest = try? PipelineJSON.decoder().decode(StageManifest.self, from: data),
      manifest.key == key
    else { return "its manifest cannot be parsed" }
    guard let record = manifest.outputs[name] else {
      return "the manifest does not list artifact \"\(name)\""
    }
    let url = artifactURL(key: key, name: name)
    guard Self.fileSize(url) == record.bytes else {
      return "its size differs from the recorded \(record.bytes) bytes"
    }
    do {
      let digest = try ArtifactDigest(ofFileAt: url)
      guard digest.sha256 == record.sha256 else {
        return "its content digest \(digest.sha256.prefix(12)) differs from the recorded "
          + "\(record.sha256.prefix(12))"
      }
    } catch {
      return "it cannot be read as HDF5"
    }
    return nil
  }

  // MARK: - Writing entries

  /// Creates a fresh temporary directory for computing `key` (or for a replay, when nil).
  func makeTemporaryDirectory(key: String?) throws -> URL {
    let name = "\(key ?? "replay").\(SystemCalls.processID).\(UInt32.random(in: 0...UInt32.max))"
    let url = temporaryDirectory.appendingPathComponent(name)
    do {
      try FileManager.default.createDirectory(at: url, withIntermediateDirectories: false)
    } catch {
      throw PipelineError.fileSystem(
        operation: "create directory",
        path: url.path,
        reason: error.localizedDescription
      )
    }
    return url
  }

  /// Makes the outputs in `temporary` durable and digested, moves them into the entry `key`,
  /// then writes the manifest: the commit point. The caller holds the key's lock.
  ///
  /// - Parameter makeManifest: builds the manifest from the output records.
  func commit(
    _ temporary: URL,
    key: String,
    outputs: [String],
    makeManifest: ([String: ArtifactRecord]) -> StageManifest
  ) throws -> StageManifest {
    let fileManager = FileManager.default
    let declared = Set(outputs.map(Self.fileName(ofArtifact:)))
    for leftover in (try? fileManager.contentsOfDirectory(atPath: temporary.path)) ?? []
    where !declared.contains(leftover) {
      try? fileManager.removeItem(at: temporary.appendingPathComponent(leftover))
    }
    var records: [String: ArtifactRecord] = [:]
    for name in outputs {
      let url = temporary.appendingPathComponent(Self.fileName(ofArtifact: name))
      try SystemCalls.synchronize(url)
      let digest = try ArtifactDigest(ofFileAt: url)
      records[name] = ArtifactRecord(sha256: digest.sha256, bytes: Self.fileSize(url) ?? 0)
    }
    try SystemCalls.synchronize(temporary, isDirectory: true)

    let entry = entryDirectory(forKey: key)
    let shard = entry.deletingLastPathComponent()
    if !fileManager.fileExists(atPath: shard.path) {
      try? fileManager.createDirectory(at: shard, withIntermediateDirectories: true)
      try SystemCalls.synchronize(entriesDirectory, isDirectory: true)
    }
    // Anything already there has no valid manifest (the caller checked under the lock): it is
    // the remains of a crash between the rename and the manifest.
    if fileManager.fileExists(atPath: entry.path) { try? fileManager.removeItem(at: entry) }
    try SystemCalls.rename(temporary, to: entry)
    try SystemCalls.synchronize(shard, isDirectory: true)

    let manifest = makeManifest(records)
    try PipelineJSON.writeAtomically(manifest, to: manifestURL(key: key))
    verified.withLock { set in for name in outputs { set.insert("\(key)/\(name)") } }
    return manifest
  }

  /// Restores pruned artifacts of the committed entry `key` from a recomputation in
  /// `temporary`: each must have the digest its manifest records; then the files move into the
  /// entry and the manifest is rewritten without them in its pruned list (the commit point).
  /// The caller holds the key's lock.
  ///
  /// - Returns: the names whose recomputed digest differs (nothing is changed then).
  func restorePruned(_ temporary: URL, key: String) throws -> [String] {
    guard var manifest = manifest(forKey: key) else { return [] }
    let names = (manifest.pruned ?? []).sorted().filter {
      FileManager.default.fileExists(
        atPath: temporary.appendingPathComponent(Self.fileName(ofArtifact: $0)).path
      )
    }
    var differing: [String] = []
    for name in names {
      let url = temporary.appendingPathComponent(Self.fileName(ofArtifact: name))
      let digest = try ArtifactDigest(ofFileAt: url)
      if digest.sha256 != manifest.outputs[name]?.sha256 { differing.append(name) }
    }
    guard differing.isEmpty else { return differing }
    for name in names {
      let source = temporary.appendingPathComponent(Self.fileName(ofArtifact: name))
      try SystemCalls.synchronize(source)
      let size = Self.fileSize(source) ?? 0
      manifest.outputs[name]?.bytes = size
      let target = artifactURL(key: key, name: name)
      try? FileManager.default.removeItem(at: target)
      try SystemCalls.rename(source, to: target)
    }
    try SystemCalls.synchronize(entryDirectory(forKey: key), isDirectory: true)
    let remaining = Set(manifest.pruned ?? []).subtracting(names)
    manifest.pruned = remaining.isEmpty ? nil : remaining.sorted()
    try PipelineJSON.writeAtomically(manifest, to: manifestURL(key: key))
    verified.withLock { set in for name in names { set.insert("\(key)/\(name)") } }
    return []
  }

  /// Prunes the artifacts `names` of the committed entry `key`: the manifest is rewritten
  /// first (listing them as pruned), then the files are removed, so a crash between the two
  /// leaves a valid thin entry with a stray file. The caller holds the key's lock.
  ///
  /// - Returns: the bytes freed.
  func prune(key: String, names: Set<String>) throws -> Int {
    guard var manifest = manifest(forKey: key) else { return 0 }
    let targets = manifest.outputs.keys.filter { names.contains($0) && !manifest.isPruned($0) }
    guard !targets.isEmpty else { return 0 }
    manifest.pruned = Array(Set(manifest.pruned ?? []).union(targets)).sorted()
    try PipelineJSON.writeAtomically(manifest, to: manifestURL(key: key))
    var freed = 0
    for name in targets {
      let url = artifactURL(key: key, name: name)
      freed += Self.fileSize(url) ?? 0
      try? FileManager.default.removeItem(at: url)
    }
    verified.withLock { set in for name in targets { set.remove("\(key)/\(name)") } }
    return freed
  }

  /// Moves entry `key` to quarantine and sends one warning line to `observer`.
  func quarantine(key: String, reason: String, observer: any PipelineObserver) {
    let entry = entryDirectory(forKey: key)
    let stamp = Int(Date().timeIntervalSince1970)
    let destination = quarantineDirectory.appendingPathComponent(
      "\(key).\(stamp).\(UInt32.random(in: 0...UInt32.max))"
    )
    guard (try? SystemCalls.rename(entry, to: destination)) != nil else { return }
    verified.withLock { set in set = set.filter { !$0.hasPrefix("\(key)/") } }
    observer.pipeline(
      .warning(
        "cache entry \(key.prefix(12)) is corrupt (\(reason)); moved to "
          + "\(destination.path), it will be recomputed"
      )
    )
  }

  // MARK: - Cleaning up

  /// Removes temporary directories whose owner is gone: its pid is not alive, or the key's lock
  /// is free (nobody is computing that key).
  @discardableResult
  func removeStaleTemporaryDirectories(observer: any PipelineObserver) -> [GCReport.Item] {
    var removed: [GCReport.Item] = []
    for url in staleTemporaryDirectories() {
      let bytes = Self.directorySize(url)
      if (try? FileManager.default.removeItem(at: url)) != nil {
        removed.append(GCReport.Item(category: .staleTemporary, path: url, bytes: bytes))
        observer.pipeline(.removedStaleTemporary(url))
      }
    }
    return removed
  }

  /// The temporary directories whose owner is gone (see above); unparsable names count as stale.
  func staleTemporaryDirectories() -> [URL] {
    let names =
      (try? FileManager.default.contentsOfDirectory(atPath: temporaryDirectory.path)) ?? []
    return names.sorted().compactMap { name -> URL? in
      let url = temporaryDirectory.appendingPathComponent(name)
      let parts = name.split(separator: ".")
      guard parts.count == 3, let pid = Int32(parts[1]) else { return url }
      if !SystemCalls.isProcessAlive(pid) { return url }
      let owner = String(parts[0])
      guard owner != "replay" else { return nil }
      // The owner holds the key's lock for as long as its temporary directory exists.
      return (try? KeyLock.tryAcquire(lockURL(key: owner))) != nil ? url : nil
    }
  }

  // MARK: - File sizes

  static func fileSize(_ url: URL) -> Int? {
    (try? FileManager.default.attributesOfItem(atPath: url.path))?[.size] as? Int
  }

  static func directorySize(_ url: URL) -> Int {
    guard let enumerator = FileManager.default.enumerator(atPath: url.path) else {
      return fileSize(url) ?? 0
    }
    var total = 0
    while let relative = enumerator.nextObject() as? String {
      total += fileSize(url.appendingPathComponent(relative)) ?? 0
    }
    return total
  }
}
