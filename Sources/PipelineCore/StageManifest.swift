import Foundation

/// The record that makes a cache entry real: written last, atomically, after every artifact of
/// the entry is durable. No manifest means the stage did not happen.
public struct StageManifest: Codable, Sendable {
  /// The version of this manifest format.
  public static let currentFormatVersion = 1

  /// The manifest format version.
  public var formatVersion: Int
  /// The cache key, the SHA-256 of ``material``.
  public var key: String
  /// Everything that went into the key.
  public var material: KeyMaterial
  /// Each output artifact's logical digest and file size, by artifact name.
  public var outputs: [String: ArtifactRecord]
  /// The id of the stage that produced the entry (informational: ids are not part of the key).
  public var stageID: StageID
  /// When the stage started executing.
  public var startedAt: Date
  /// How long the stage ran, in seconds.
  public var durationSeconds: Double
  /// The machine that ran the stage.
  public var host: String
  /// The version of the tool that ran the stage.
  public var toolVersion: String
  /// The process that ran the stage.
  public var processID: Int32
  /// Facts about the code and machine that computed the entry, which can change results in
  /// the last bits (for DBAL: `code-version`, `code-dirty`, `onednn-isa`, `threads`, `cpu`);
  /// nil in manifests written before they were recorded.
  public var environment: [String: String]?
  /// Output artifacts whose bytes are not stored (a *pruned* or imported thin entry): the
  /// manifest still records their digests, so a recomputation can be verified against them.
  /// Nil or empty: every output is present.
  public var pruned: [String]?

  /// Creates a manifest.
  public init(
    key: String,
    material: KeyMaterial,
    outputs: [String: ArtifactRecord],
    stageID: StageID,
    startedAt: Date,
    durationSeconds: Double,
    host: String,
    toolVersion: String,
    processID: Int32,
    environment: [String: String]? = nil,
    pruned: [String]? = nil
  ) {
    self.formatVersion = Self.currentFormatVersion
    self.key = key
    self.material = material
    self.outputs = outputs
    self.stageID = stageID
    self.startedAt = startedAt
    self.durationSeconds = durationSeconds
    self.host = host
    self.toolVersion = toolVersion
    self.processID = processID
    self.environment = environment
    self.pruned = pruned
  }

  /// Whether output `name` is pruned (recorded, but its bytes are not in the entry).
  public func isPruned(_ name: String) -> Bool { pruned?.contains(name) ?? false }
}

/// The committed identity of one output artifact.
public struct ArtifactRecord: Codable, Hashable, Sendable {
  /// The SHA-256 (hex) of the artifact's logical content; see ``ArtifactDigest``.
  public var sha256: String
  /// The artifact file's size in bytes (a cheap check that the file is whole).
  public var bytes: Int

  /// Creates an artifact record.
  public init(sha256: String, bytes: Int) {
    self.sha256 = sha256
    self.bytes = bytes
  }
}

// MARK: - JSON

enum PipelineJSON {
  static func encoder() -> JSONEncoder {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
    encoder.dateEncodingStrategy = .iso8601
    return encoder
  }

  static func decoder() -> JSONDecoder {
    let decoder = JSONDecoder()
    decoder.dateDecodingStrategy = .iso8601
    return decoder
  }

  /// Writes `value` as JSON to `url` atomically and durably: a temporary file in the same
  /// directory, `fsync`, `rename`, `fsync` of the directory.
  static func writeAtomically<T: Encodable>(_ value: T, to url: URL) throws {
    let data = try encoder().encode(value)
    let directory = url.deletingLastPathComponent()
    // A process killed between writing and renaming left `.<name>.<pid>.<n>`: remove those of
    // dead processes, so that the next writer of the same file leaves nothing behind.
    let prefix = ".\(url.lastPathComponent)."
    for name in (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
    where name.hasPrefix(prefix) {
      let pid = name.dropFirst(prefix.count).prefix { $0 != "." }
      if let pid = Int32(pid), !SystemCalls.isProcessAlive(pid) {
        try? FileManager.default.removeItem(at: directory.appendingPathComponent(name))
      }
    }
    let temporary = directory.appendingPathComponent(
      ".\(url.lastPathComponent).\(SystemCalls.processID).\(UInt32.random(in: 0...UInt32.max))"
    )
    do {
      try data.write(to: temporary)
    } catch {
      throw PipelineError.fileSystem(
        operation: "write",
        path: temporary.path,
        reason: error.localizedDescription
      )
    }
    do {
      try SystemCalls.synchronize(temporary)
      try SystemCalls.rename(temporary, to: url)
    } catch {
      try? FileManager.default.removeItem(at: temporary)
      throw error
    }
    try SystemCalls.synchronize(directory, isDirectory: true)
  }
}
