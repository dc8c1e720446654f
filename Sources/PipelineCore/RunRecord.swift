import Foundation

/// What one named run (`pipeline run --record fig2`, say) last produced: for each stage, its key
/// and key material. Run records are the roots of garbage collection and the baseline that
/// `status` compares against to explain reruns.
public struct RunRecord: Codable, Sendable {
  /// The record's name (its file is `<runs directory>/<name>.json`).
  public var name: String
  /// The version of the tool that made the run.
  public var toolVersion: String
  /// When the run finished (or stopped).
  public var finishedAt: Date
  /// Whether every stage of the graph completed.
  public var isComplete: Bool
  /// The completed stages.
  public var stages: [StageID: Entry]

  /// One completed stage in a run record.
  public struct Entry: Codable, Sendable {
    /// The stage's cache key.
    public var key: String
    /// The stage's key material.
    public var material: KeyMaterial
    /// The stage's output records, by artifact name.
    public var outputs: [String: ArtifactRecord]

    /// Creates a record entry.
    public init(key: String, material: KeyMaterial, outputs: [String: ArtifactRecord]) {
      self.key = key
      self.material = material
      self.outputs = outputs
    }
  }

  /// Creates a run record.
  public init(
    name: String,
    toolVersion: String,
    finishedAt: Date,
    isComplete: Bool,
    stages: [StageID: Entry]
  ) {
    self.name = name
    self.toolVersion = toolVersion
    self.finishedAt = finishedAt
    self.isComplete = isComplete
    self.stages = stages
  }

  /// All records in `directory`, newest first; unreadable files are skipped.
  static func loadAll(from directory: URL) -> [RunRecord] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
    return names.filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }.compactMap { name in
      guard let data = try? Data(contentsOf: directory.appendingPathComponent(name)) else {
        return nil
      }
      return try? PipelineJSON.decoder().decode(RunRecord.self, from: data)
    }.sorted { $0.finishedAt > $1.finishedAt }
  }
}
