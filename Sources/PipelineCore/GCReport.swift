import Foundation

/// What garbage collection removed (or, in a dry run, would remove).
public struct GCReport: Sendable {
  /// Why an item is garbage.
  public enum Category: String, Sendable {
    /// A cache entry no run record refers to.
    case unreferencedEntry
    /// A temporary directory whose process is gone.
    case staleTemporary
    /// A quarantined entry.
    case quarantined
  }

  /// One removed (or removable) directory.
  public struct Item: Sendable, Equatable {
    /// Why it is garbage.
    public var category: Category
    /// Its location.
    public var path: URL
    /// The bytes it holds.
    public var bytes: Int
    /// For a cache entry, the stage kind its manifest names (`train`, say), if readable.
    public var stageKind: String? = nil
  }

  /// A run record that was forgotten (or, in a dry run, would be), with the entries that only
  /// it referred to.
  public struct ForgottenRun: Sendable {
    /// The record.
    public var record: RunRecord
    /// The cache entries removed because no remaining record refers to them.
    public var entries: [Item]
  }

  /// Whether nothing was actually removed.
  public var isDryRun: Bool
  /// The items, sorted by path: every removed directory, including the entries of
  /// ``forgottenRuns``.
  public var items: [Item]
  /// The run records forgotten, in the order asked.
  public var forgottenRuns: [ForgottenRun] = []
  /// The run records kept, newest first.
  public var keptRuns: [RunRecord] = []

  /// The removed cache entries that no forgotten run accounts for: results that no recorded
  /// run refers to any more (earlier code, parameters or inputs).
  public var unreferencedEntries: [Item] {
    let forgotten = Set(forgottenRuns.flatMap { $0.entries.map(\.path) })
    return items.filter { $0.category == .unreferencedEntry && !forgotten.contains($0.path) }
  }
  /// The bytes of all items.
  public var totalBytes: Int { items.reduce(0) { $0 + $1.bytes } }
}
