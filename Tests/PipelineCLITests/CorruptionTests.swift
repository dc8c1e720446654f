import Foundation
import Testing

/// Damaged cache files are detected on the next run, moved aside with one warning line and
/// recomputed; the results do not change.
@Suite(
  "Cache corruption",
  .enabled(if: TortureSettings.hasMNIST, TortureSettings.noMNIST),
  .timeLimit(.minutes(10))
)
struct CorruptionTests {
  /// How a file is damaged.
  enum Damage: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case truncate, zero, bitFlip

    var testDescription: String { rawValue }

    func apply(to url: URL) throws {
      var bytes = try Data(contentsOf: url)
      switch self {
      case .truncate: bytes = bytes.prefix(bytes.count / 2)
      case .zero: bytes = Data(count: bytes.count)
      case .bitFlip:
        // Bits at every eighth of the file: one flip alone can land in bytes HDF5 never reads
        // (padding, free space), which logical digests rightly ignore, and small files such as
        // an evaluation's metrics are mostly such bytes.
        for position in (1...7).map({ $0 * bytes.count / 8 }) {
          bytes[position] ^= 0x10
        }
      }
      try bytes.write(to: url)
    }
  }

  /// Which committed file is damaged.
  enum Victim: String, CaseIterable, CustomTestStringConvertible, Sendable {
    /// An evaluation result (read by the report).
    case metrics
    /// The last round's trained model (nothing cached reads it again).
    case model
    /// A manifest.
    case manifest

    var testDescription: String { rawValue }

    /// The file to damage in `cache`, chosen deterministically (sorted by stage id).
    func file(in workspace: URL, _ cache: CacheSnapshot) throws -> URL {
      let entries = cache.entries.sorted { $0.value.stageID < $1.value.stageID }
      let (key, entry) = try #require(
        entries.first { key, entry in
          switch self {
          case .metrics: entry.stageID.hasSuffix("round-002/evaluate")
          case .model: entry.stageID.hasSuffix("round-002/train")
          case .manifest: entry.stageID.hasSuffix("round-001/acquire")
          }
        }
      )
      let directory = workspace.dataDirectory.appendingPathComponent("cache/entries")
        .appendingPathComponent(String(key.prefix(2))).appendingPathComponent(key)
      let artifact = try #require(entry.outputs.keys.first)
      let name = self == .manifest ? "manifest.json" : artifact + ".h5"
      return directory.appendingPathComponent(name)
    }
  }

  @Test(
    "Damage is detected, quarantined with one warning, recomputed; results unchanged",
    arguments: Victim.allCases,
    Damage.allCases
  )
  func damageIsRepaired(victim: Victim, damage: Damage) throws {
    let fixture = try CLIFixture.shared()
    let workspace = try fixture.workspace(copying: fixture.reference, "corrupt")
    defer { fixture.discard(workspace) }
    let file = try victim.file(in: workspace, fixture.referenceCache)
    try damage.apply(to: file)

    let run = try PipelineProcess.run(CLIFixture.smokeFig2(workspace))
    try #require(run.succeeded, "\(run)")
    let warnings = run.standardError.split(separator: "\n").filter { $0.hasPrefix("warning: ") }
    let snapshot = try CacheSnapshot(workspace)
    let detected = warnings.count == 1 && snapshot.quarantined.count == 1
    #expect(
      detected,
      "expected one warning and one quarantined entry; stderr:\n\(run.standardError)"
    )
    if detected {
      #expect(warnings[0].contains("corrupt") && warnings[0].contains("recomputed"), "\(warnings)")
    }
    try expectMatchesReference(workspace, fixture)
  }
}
