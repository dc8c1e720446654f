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
  }

  /// Whether nothing was actually removed.
  public var isDryRun: Bool
  /// The items, sorted by path.
  public var items: [Item]
  /// The bytes of all items.
  public var totalBytes: Int { items.reduce(0) { $0 + $1.bytes } }
}
