// MARK: - Arrays and dataset metadata

/// A dense n-dimensional array read from or written to a dataset, in C (row-major) order.
public struct HDF5Array<Element: HDF5Element>: Sendable {
  /// The extent of each dimension; `[]` for a scalar.
  public var shape: [Int]
  /// The elements in C order; `values.count` equals the product of `shape` (1 for a scalar).
  public var values: [Element]

  /// Creates an array, checking that `values` fills `shape` exactly.
  public init(shape: [Int], values: [Element]) {
    precondition(shape.allSatisfy { $0 >= 0 }, "HDF5Array: negative extent in shape \(shape)")
    precondition(
      values.count == shape.reduce(1, *),
      "HDF5Array: \(values.count) values do not fill shape \(shape)"
    )
    self.shape = shape
    self.values = values
  }
}

extension HDF5Array: Equatable where Element: Equatable {}

/// The element type and shape of a stored dataset.
public struct HDF5DatasetInfo: Sendable, Equatable {
  /// The stored element type.
  public var elementType: HDF5ElementType
  /// The extent of each dimension; `[]` for a scalar.
  public var shape: [Int]

  /// Creates a description of a dataset.
  public init(elementType: HDF5ElementType, shape: [Int]) {
    self.elementType = elementType
    self.shape = shape
  }

  /// The number of elements (1 for a scalar).
  public var elementCount: Int { shape.reduce(1, *) }
}

/// The value of an attribute attached to a group or dataset.
public enum HDF5AttributeValue: Sendable, Equatable {
  /// A UTF-8 string (stored as a fixed-length, null-padded string).
  case string(String)
  /// A signed 64-bit integer scalar.
  case int(Int64)
  /// A 64-bit floating-point scalar.
  case double(Double)
  /// A one-dimensional array of signed 64-bit integers.
  case ints([Int64])
  /// A one-dimensional array of 64-bit floating-point numbers.
  case doubles([Double])
}

/// How a dataset's elements are laid out and compressed on disk.
///
/// Compression never changes the values read back, only the file's size and bytes.
public enum HDF5Compression: Sendable, Equatable {
  /// Contiguous storage, no filters.
  case none
  /// Chunked storage with the shuffle filter and deflate (zlib) at `level` (0...9).
  case deflate(level: Int)
  /// `deflate(level: 4)` when the dataset is larger than 64 KiB, `none` otherwise: small
  /// datasets do not gain from chunking overhead.
  case automatic

  /// The deflate level to use for a dataset of `byteCount` bytes and `shape`, or nil for
  /// contiguous storage (scalars and empty datasets cannot be chunked).
  func deflateLevel(byteCount: Int, shape: [Int]) -> Int? {
    guard !shape.isEmpty, !shape.contains(0) else { return nil }
    switch self {
    case .none: return nil
    case .deflate(let level):
      precondition((0...9).contains(level), "HDF5Compression: deflate level \(level) not in 0...9")
      return level
    case .automatic: return byteCount > 64 * 1024 ? 4 : nil
    }
  }
}
