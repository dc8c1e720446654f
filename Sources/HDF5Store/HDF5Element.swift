// MARK: - Element types

/// The element types a dataset can hold, as stored in the file (always little-endian).
public enum HDF5ElementType: String, Sendable, Codable, CaseIterable {
  /// IEEE 754 binary16, "half" (sign bit 15, exponent bits 10-14 with bias 15, mantissa bits
  /// 0-9): what h5py writes for `numpy.float16` and PyTorch users get from `tensor.half()`.
  ///
  /// HDF5 1.10 has no predefined half type, so it is a float type derived from
  /// `H5T_IEEE_F32LE` as h5py derives it; `h5dump` shows it as "16-bit little-endian
  /// floating-point 16-bit precision". Other 16-bit float layouts (bfloat16) are not this type.
  case float16
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

  /// Whether the type is one of the IEEE floating-point types.
  public var isFloatingPoint: Bool {
    switch self {
    case .float16, .float32, .float64: true
    case .int32, .int64, .uint8: false
    }
  }

  /// The size of one element in bytes.
  public var byteCount: Int {
    switch self {
    case .float16: 2
    case .float32, .int32: 4
    case .float64, .int64: 8
    case .uint8: 1
    }
  }
}

/// A Swift scalar type that maps one-to-one onto an ``HDF5ElementType``.
///
/// `Float16` (where Swift has it), `Float`, `Double`, `Int32`, `Int64` and `UInt8` conform.
/// ``HDF5File/read(_:as:)`` never converts between types: reading a `float64` dataset as
/// `Float` throws ``HDF5Error/typeMismatch(file:object:expected:found:)``. Exact,
/// widening floating-point reads are explicit: ``HDF5File/read(_:wideningTo:)``.
public protocol HDF5Element: Sendable, BitwiseCopyable {
  /// The element type this Swift type is stored as.
  static var hdf5ElementType: HDF5ElementType { get }
}

// Swift has no Float16 on Intel Macs (nor on Mac Catalyst there).
#if !((os(macOS) || targetEnvironment(macCatalyst)) && arch(x86_64))
  extension Float16: HDF5Element {
    /// Stored as ``HDF5ElementType/float16``.
    public static var hdf5ElementType: HDF5ElementType { .float16 }
  }
#endif

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
