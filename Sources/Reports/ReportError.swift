/// Why a report could not be rendered or written, with what to fix.
public enum ReportError: Error, Sendable, Equatable, CustomStringConvertible {
  /// A `{{value NAME}}` names a value the experiments did not provide.
  case unknownValue(name: String, file: String, line: Int, available: [String])
  /// A `dbal-figure` has no data in the inputs.
  case missingFigureData(id: String, file: String, line: Int)
  /// A `dbal-table` has no data in the inputs.
  case missingTableData(id: String, file: String, line: Int)
  /// A table row has the wrong number of cells.
  case raggedTable(id: String, row: Int, expected: Int, found: Int)
  /// A report file could not be written.
  case writeFailed(path: String, reason: String)

  /// What went wrong and how to fix it.
  public var description: String {
    switch self {
    case .unknownValue(let name, let file, let line, let available):
      let shown = available.prefix(12).joined(separator: ", ")
      let more = available.count > 12 ? ", … (\(available.count) in all)" : ""
      return "\(file):\(line): unknown value '\(name)' in {{value \(name)}}; available values: "
        + (available.isEmpty ? "none" : shown + more)
        + ". Fix the name in the document (see Pipelines/README.md for the names)."
    case .missingFigureData(let id, let file, let line):
      return "\(file):\(line): no data for figure '\(id)'; the experiment must produce it"
        + " (is the figure's id spelled as the pipeline expects?)"
    case .missingTableData(let id, let file, let line):
      return "\(file):\(line): no data for table '\(id)'; the experiment must produce it"
    case .raggedTable(let id, let row, let expected, let found):
      return "table '\(id)': row \(row + 1) has \(found) cells but there are \(expected)"
        + " columns; this is a bug in the code that built the table data"
    case .writeFailed(let path, let reason):
      return "cannot write '\(path)': \(reason); check that the directory is writable"
    }
  }
}
