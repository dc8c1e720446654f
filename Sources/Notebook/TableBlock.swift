/// A ```` ```dbal-table ```` block: a results table the Experiments module fills in.
///
/// ```
/// id: acquired-to-error
/// kind: acquired-to-error
/// errors: 10, 5
/// caption: Acquired images needed to reach a given test error.
/// ```
public struct TableBlock: Sendable, Equatable {
  /// The unique id (shared namespace with figures).
  public var id: String
  /// Which table to compute.
  public var kind: TableKind
  /// Test-error thresholds in percent (each in (0, 100)) for ``TableKind/acquiredToError``;
  /// empty for other kinds.
  public var errorThresholds: [Double]
  /// Numbers of acquired images at which ``TableKind/accuracyAt`` reports test accuracy;
  /// empty for other kinds.
  public var acquiredCounts: [Int]
  /// The label shown before the title, e.g. `Figure 2` to follow the paper's numbering; nil
  /// numbers the tables of the document in order.
  public var label: String?
  /// An optional caption (Markdown) shown above the table.
  public var caption: String?
  /// The 1-based line of the opening fence.
  public var line: Int

  /// The thresholds used when a `kind: acquired-to-error` table gives no `errors:` (the
  /// paper's Table 1).
  public static let defaultErrorThresholds: [Double] = [10, 5]

  /// Creates a table declaration.
  public init(
    id: String,
    kind: TableKind,
    errorThresholds: [Double] = [],
    acquiredCounts: [Int] = [],
    caption: String? = nil,
    label: String? = nil,
    line: Int
  ) {
    self.id = id
    self.kind = kind
    self.errorThresholds = errorThresholds
    self.acquiredCounts = acquiredCounts
    self.caption = caption
    self.label = label
    self.line = line
  }
}

/// The kinds of result tables.
public enum TableKind: String, Sendable, CaseIterable, Hashable {
  /// Acquired images needed to first reach each test-error threshold (the paper's Table 1).
  case acquiredToError = "acquired-to-error"
  /// Test error after the last acquisition round (the paper's Table 2).
  case errorAtEnd = "error-at-end"
  /// Test accuracy at given numbers of acquired images (`acquired: 100, 500, 1000`), each
  /// source by its natural metric.
  case accuracyAt = "accuracy-at"
}
