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
  /// Facts about the run in the caller's own terms, which `gc` and `status` use to group runs
  /// and to describe them in words (for DBAL: `target`, `profile`, `parameters-digest`,
  /// `cells`, `command`, `origin`). Empty in records written before labels existed.
  public var labels: [String: String]
  /// The run's resolved parameters in the user's own names and spellings (for DBAL, the
  /// `--set` keys), so that `status` can say what changed as `seed: 0 -> 1`. Empty when the
  /// caller gave none.
  public var parameters: [String: String]

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
    stages: [StageID: Entry],
    labels: [String: String] = [:],
    parameters: [String: String] = [:]
  ) {
    self.name = name
    self.toolVersion = toolVersion
    self.finishedAt = finishedAt
    self.isComplete = isComplete
    self.stages = stages
    self.labels = labels
    self.parameters = parameters
  }

  private enum CodingKeys: String, CodingKey {
    case name, toolVersion, finishedAt, isComplete, stages, labels, parameters
  }

  /// Decodes a record; records written before labels and parameters existed decode with
  /// both empty.
  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    name = try container.decode(String.self, forKey: .name)
    toolVersion = try container.decode(String.self, forKey: .toolVersion)
    finishedAt = try container.decode(Date.self, forKey: .finishedAt)
    isComplete = try container.decode(Bool.self, forKey: .isComplete)
    stages = try container.decode([StageID: Entry].self, forKey: .stages)
    labels = try container.decodeIfPresent([String: String].self, forKey: .labels) ?? [:]
    parameters = try container.decodeIfPresent([String: String].self, forKey: .parameters) ?? [:]
  }

  /// The keys of the cache entries the record refers to.
  public var keys: Set<String> { Set(stages.values.map(\.key)) }

  /// All records in `directory`, newest first; unreadable files are skipped.
  public static func loadAll(from directory: URL) -> [RunRecord] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
    return names.filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }.compactMap { name in
      guard let data = try? Data(contentsOf: directory.appendingPathComponent(name)) else {
        return nil
      }
      return try? PipelineJSON.decoder().decode(RunRecord.self, from: data)
    }.sorted { $0.finishedAt > $1.finishedAt }
  }
}
