import Foundation

/// What a data directory's cache holds: every committed entry's output digests, plus anything
/// that should not be there after a run (temporary files, uncommitted entries, quarantine).
struct CacheSnapshot: Equatable, Sendable {
  /// One committed entry, as its manifest records it.
  struct Entry: Equatable, Sendable {
    var stageID: String
    /// Artifact name -> logical SHA-256.
    var outputs: [String: String]
    var processID: Int32
  }

  /// Cache key -> committed entry.
  var entries: [String: Entry]
  /// Temporary files and directories left anywhere in the data directory (relative paths).
  var temporaryLeftovers: [String]
  /// Entry directories without a manifest (the remains of an interrupted commit).
  var uncommittedEntries: [String]
  /// Names under `cache/quarantine`.
  var quarantined: [String]

  /// Key -> output digests: what must match between runs (pids and times may differ).
  var digests: [String: [String: String]] { entries.mapValues(\.outputs) }

  init(_ workspace: URL) throws {
    let manager = FileManager.default
    let data = workspace.dataDirectory
    let cache = data.appendingPathComponent("cache")
    entries = [:]
    uncommittedEntries = []
    let entriesRoot = cache.appendingPathComponent("entries")
    for shard in try manager.contentsOfDirectory(atPath: entriesRoot.path) {
      let shardURL = entriesRoot.appendingPathComponent(shard)
      for key in try manager.contentsOfDirectory(atPath: shardURL.path) {
        let manifestURL = shardURL.appendingPathComponent(key).appendingPathComponent(
          "manifest.json"
        )
        guard let bytes = manager.contents(atPath: manifestURL.path),
          let json = try JSONSerialization.jsonObject(with: bytes) as? [String: Any],
          let outputs = json["outputs"] as? [String: [String: Any]]
        else {
          uncommittedEntries.append("\(shard)/\(key)")
          continue
        }
        entries[key] = Entry(
          stageID: json["stageID"] as? String ?? "?",
          outputs: outputs.compactMapValues { $0["sha256"] as? String },
          processID: (json["processID"] as? NSNumber)?.int32Value ?? -1
        )
      }
    }
    var leftovers =
      (try? manager.contentsOfDirectory(atPath: cache.appendingPathComponent("tmp").path))?
      .map { "cache/tmp/\($0)" } ?? []
    if let walker = manager.enumerator(atPath: data.path) {
      while let relative = walker.nextObject() as? String {
        let name = (relative as NSString).lastPathComponent
        if name.hasPrefix(".") || name.hasSuffix(".tmp") || name.contains(".partial-") {
          leftovers.append(relative)
        }
      }
    }
    temporaryLeftovers = leftovers.sorted()
    quarantined =
      (try? manager.contentsOfDirectory(atPath: cache.appendingPathComponent("quarantine").path))?
      .sorted() ?? []
  }

  /// The sorted keys of the entries of `workspace` whose `model.h5` is present (not pruned).
  static func modelKeys(_ workspace: URL) throws -> [String] {
    try FileManager.default.subpathsOfDirectory(
      atPath: workspace.dataDirectory.appendingPathComponent("cache/entries").path
    ).filter { $0.hasSuffix("/model.h5") }.map { String($0.split(separator: "/")[1]) }.sorted()
  }

  /// A readable list of the keys whose digests differ from `other`'s (empty when equal).
  func differences(from other: CacheSnapshot) -> [String] {
    let keys = Set(entries.keys).union(other.entries.keys).sorted()
    return keys.compactMap { key in
      let mine = entries[key]
      let theirs = other.entries[key]
      guard mine?.outputs != theirs?.outputs else { return nil }
      let stage = mine?.stageID ?? theirs?.stageID ?? "?"
      return "\(stage) [\(key.prefix(12))]: \(mine?.outputs.description ?? "absent") vs "
        + (theirs?.outputs.description ?? "absent")
    }
  }
}

/// A rendered report, split into what must be identical between runs of the same results (the
/// document body, figures, CSV) and the provenance section, which records this run's command
/// and timings and so legitimately differs.
struct ReportSnapshot: Equatable, Sendable {
  /// The Markdown before `## Provenance`.
  var markdownBody: String
  /// The HTML before the provenance heading.
  var htmlBody: String
  /// Every file of the report's asset folder (SVG figures, CSV tables), by name.
  var assets: [String: Data]
  /// The complete Markdown and HTML, for byte-identity checks on one cache.
  var markdown: String
  var html: String

  /// Reads the report `name` (`fig2-smoke` for fig2 with the smoke profile) of `workspace`.
  init(_ workspace: URL, report name: String) throws {
    let reports = workspace.reportsDirectory
    markdown = try String(contentsOf: reports.appendingPathComponent("\(name).md"), encoding: .utf8)
    html = try String(contentsOf: reports.appendingPathComponent("\(name).html"), encoding: .utf8)
    markdownBody = markdown.components(separatedBy: "## Provenance")[0]
    htmlBody = html.components(separatedBy: "<h2 id=\"provenance\"")[0]
    let assetFolder = reports.appendingPathComponent(name)
    assets = [:]
    for name in (try? FileManager.default.contentsOfDirectory(atPath: assetFolder.path)) ?? [] {
      assets[name] = FileManager.default.contents(
        atPath: assetFolder.appendingPathComponent(name).path
      )
    }
  }

  /// Whether the parts that depend only on the results are byte-identical.
  func hasSameResults(as other: ReportSnapshot) -> Bool {
    markdownBody == other.markdownBody && htmlBody == other.htmlBody && assets == other.assets
  }
}
