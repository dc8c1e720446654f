/// A dense row-major matrix of `Double`s, the value type the graph computations pass around.
public struct Matrix: Sendable, Equatable {
  /// Rows.
  public let rows: Int
  /// Columns.
  public let columns: Int
  /// `rows x columns` values, row-major.
  public var values: [Double]

  /// A matrix from its row-major values.
  ///
  /// - Precondition: `values.count == rows * columns`.
  public init(rows: Int, columns: Int, values: [Double]) {
    precondition(
      values.count == rows * columns,
      "Matrix: \(values.count) values for \(rows)x\(columns)"
    )
    self.rows = rows
    self.columns = columns
    self.values = values
  }

  /// A matrix of zeros.
  public init(rows: Int, columns: Int) {
    self.init(rows: rows, columns: columns, values: [Double](repeating: 0, count: rows * columns))
  }

  /// The entry in row `i`, column `j`.
  @inlinable
  public subscript(i: Int, j: Int) -> Double {
    get { values[i * columns + j] }
    set { values[i * columns + j] = newValue }
  }

  /// The rows at `rowIndices` and columns at `columnIndices`, in the orders given.
  public func submatrix(rows rowIndices: [Int], columns columnIndices: [Int]) -> Matrix {
    var result = Matrix(rows: rowIndices.count, columns: columnIndices.count)
    values.withUnsafeBufferPointer { source in
      result.values.withUnsafeMutableBufferPointer { target in
        for (r, i) in rowIndices.enumerated() {
          let row = source.baseAddress! + i * columns
          let out = target.baseAddress! + r * columnIndices.count
          for (c, j) in columnIndices.enumerated() { out[c] = row[j] }
        }
      }
    }
    return result
  }

  /// Copies the lower triangle onto the upper one (after LAPACK wrote only the lower).
  mutating func symmetriseFromLower() {
    let n = rows
    values.withUnsafeMutableBufferPointer { a in
      for i in 0..<n {
        for j in (i + 1)..<max(n, i + 1) { a[i * n + j] = a[j * n + i] }
      }
    }
  }
}
