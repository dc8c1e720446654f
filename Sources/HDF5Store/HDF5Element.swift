// MARK: - Element types

/// The element types a dataset can hold, as stored in the file (always little-endian).
public enum HDF5ElementType: String, Sendable, Codable, CaseIterable {
  /// IEEE 754 binary32 (`H5T_IEEE_F32LE`).
  case float32
  /// IEEE 754 binary64 (`H5T_IEEE_F64LE`).
  case float64
  /// Signed 32-bit integer (`H5T_STD_I32LE`).
  case int32
  /// Signed 64-bit integer (`H5T_STD_I64LE`).
  case int64
  /// Unsigned 8-bit integer (`H5T_STD_U8LE`).
  case uint8

  /// The size of one element in bytes.
  public var byteCount: Int {
    switch self {
    case .float32, .int32: 4
    case .float64, .int64: 8
    case .uint8: 1
    }
  }
}

/// A Swift scalar type that maps one-to-one onto an ``HDF5ElementType``.
///
/// `Float`, `Double`, `Int32`, `Int64` and `UInt8` conform. Reads never convert between
/// types: reading a `float64` dataset as `Float` throws ``HDF5Error/typeMismatch(file:object:expected:found:)``.
public protocol HDF5Element: Sendable, BitwiseCopyable {
  /// The element type this Swift type is stored as.
  static var hdf5ElementType: HDF5ElementType { get }
}

extension Float: HDF5Element {
  /// Stored as ``HDF5ElementType/float32``.
  public static var hdf5ElementType: HDF5ElementType { .float32 }
}

extension Double: HDF5Element {
  /// Stored as ``HDF5ElementType/float64``.
  public static var hdf5ElementType: HDF5ElementType { .float64 }
}

extension Int32: HDF5Element {
  /// Stored as ``HDF5ElementType/int32``.
  public static var hdf5ElementType: HDF5ElementType { .int32 }
}

extension Int64: HDF5Element {
  /// Stored as ``HDF5ElementType/int64``.
  public static var hdf5ElementType: HDF5ElementType { .int64 }
}

extension UInt8: HDF5Element {
  /// Stored as ``HDF5ElementType/uint8``.
  public static var hdf5ElementType: HDF5ElementType { .uint8 }
}
