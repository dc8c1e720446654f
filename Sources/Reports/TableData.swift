/// The cells of one `dbal-table`, computed by the Experiments module (including the paper's
/// numbers and differences); the renderer only lays them out and escapes them.
public struct TableData: Sendable, Equatable {
  /// Column headers.
  public var columns: [String]
  /// Rows of cells; each row has exactly `columns.count` cells.
  public var rows: [[String]]
  /// Footnotes shown under the table (for example how thresholds were interpolated).
  public var notes: [String]

  /// Creates a table.
  public init(columns: [String], rows: [[String]], notes: [String] = []) {
    self.columns = columns
    self.rows = rows
    self.notes = notes
  }
}
