internal import CHDF5
import Foundation

// The only file that calls libhdf5. Every function here takes or returns Swift types,
// owns each HDF5 identifier in an `HDF5Handle` (so it is closed even when a later call
// throws), and turns status codes into `HDF5Error`s that name the file and the object.

// MARK: - Serialisation

/// The process-wide gate in front of libhdf5.
///
/// HDF5 keeps global state (open-object tables, error stacks, the free-list allocator); even
/// a thread-safe build serialises internally and callbacks re-enter the library, so every
/// call goes through one recursive lock, as h5py, HDF5.jl and hdf5-rust do.
enum HDF5Runtime {
  private static let lock = NSRecursiveLock()

  /// `H5open` runs once; Swift initialises static lets exactly once, thread-safely.
  private static let isOpened: Bool = H5open() >= 0

  /// Runs `body` while holding the library lock, with automatic error printing off.
  static func serialized<T, Failure: Error>(_ body: () throws(Failure) -> T) throws(Failure) -> T {
    lock.lock()
    defer { lock.unlock() }
    precondition(isOpened, "HDF5: H5open failed; the HDF5 library is unusable")
    // The thread-safe build keeps the auto-print setting per thread, so set it on every
    // entry (a few nanoseconds) instead of once per process.
    H5Eset_auto2(dbal_H5E_DEFAULT(), nil, nil)
    return try body()
  }

  /// The linked library's version, e.g. "1.10.8".
  static var libraryVersion: String {
    serialized {
      var major: UInt32 = 0
      var minor: UInt32 = 0
      var release: UInt32 = 0
      H5get_libversion(&major, &minor, &release)
      return "\(major).\(minor).\(release)"
    }
  }

  /// Whether the file at `path` has an HDF5 superblock.
  static func isHDF5(_ path: String) -> Bool {
    serialized {
      let result = H5Fis_hdf5(path) > 0
      H5Eclear2(dbal_H5E_DEFAULT())
      return result
    }
  }
}

// MARK: - Owned identifiers

/// One open HDF5 identifier, closed exactly once: explicitly with `close()` or in `deinit`.
final class HDF5Handle {
  /// What kind of identifier this is, which decides the close function.
  enum Kind {
    case file, group, dataset, dataspace, datatype, propertyList, attribute, object
  }

  let id: hid_t
  let kind: Kind
  private var isOpen = true

  init(_ id: hid_t, kind: Kind) {
    self.id = id
    self.kind = kind
  }

  /// Closes the identifier; returns HDF5's status (negative on failure). Idempotent.
  @discardableResult
  func close() -> herr_t {
    HDF5Runtime.serialized {
      guard isOpen else { return 0 }
      isOpen = false
      switch kind {
      case .file: return H5Fclose(id)
      case .group: return H5Gclose(id)
      case .dataset: return H5Dclose(id)
      case .dataspace: return H5Sclose(id)
      case .datatype: return H5Tclose(id)
      case .propertyList: return H5Pclose(id)
      case .attribute: return H5Aclose(id)
      case .object: return H5Oclose(id)
      }
    }
  }

  deinit { close() }
}

// MARK: - Stored types

/// The type of a stored dataset or attribute, as far as this module understands it.
enum HDF5StoredType: Equatable, CustomStringConvertible {
  case element(HDF5ElementType)
  case fixedLengthString
  case variableLengthString
  case unsupported(String)

  var description: String {
    switch self {
    case .element(let type): type.rawValue
    case .fixedLengthString: "a fixed-length string"
    case .variableLengthString: "a variable-length string"
    case .unsupported(let name): name
    }
  }
}

/// The byte order to read elements in: native for typed arrays, little-endian for digests.
enum HDF5ByteOrder {
  case native, littleEndian
}

// MARK: - Half precision

/// IEEE 754 binary16 types, which HDF5 1.10 does not predefine (1.14.4 added
/// `H5T_IEEE_F16LE`). Built once, under the library lock, the way h5py builds the type it
/// stores `numpy.float16` as, so files written here and by h5py carry the same type.
enum HDF5HalfType {
  /// Little-endian binary16: the file type, and the memory type for digests.
  static let littleEndian: hid_t = make(order: H5T_ORDER_LE)
  /// binary16 in the host's byte order: the memory type of `Float16`.
  static let native: hid_t = 1.littleEndian == 1 ? littleEndian : make(order: H5T_ORDER_BE)

  /// The layout of IEEE binary16 as `H5Tget_fields` reports it: sign position, exponent
  /// position and size, mantissa position and size; and the exponent bias.
  static let fields = (sign: 15, exponent: 10, exponentSize: 5, mantissa: 0, mantissaSize: 10)
  static let exponentBias = 15

  /// A copy of `H5T_IEEE_F32LE` reshaped to binary16, locked (it can be neither changed nor
  /// closed) and kept for the life of the process. Only called with the library lock held:
  /// the types are used only inside `HDF5Runtime.serialized`.
  private static func make(order: H5T_order_t) -> hid_t {
    let type = H5Tcopy(dbal_H5T_IEEE_F32LE())
    // Fields first: a float type cannot shrink below fields that do not fit.
    let statuses = [
      H5Tset_fields(
        type,
        fields.sign,
        fields.exponent,
        fields.exponentSize,
        fields.mantissa,
        fields.mantissaSize
      ),
      H5Tset_size(type, 2),
      H5Tset_ebias(type, exponentBias),
      H5Tset_order(type, order),
      H5Tlock(type),
    ]
    precondition(
      type >= 0 && statuses.allSatisfy { $0 >= 0 },
      "HDF5: cannot build the IEEE binary16 type; the HDF5 library is unusable"
    )
    return type
  }
}

private func fileType(_ type: HDF5ElementType) -> hid_t {
  switch type {
  case .float16: HDF5HalfType.littleEndian
  case .float32: dbal_H5T_IEEE_F32LE()
  case .float64: dbal_H5T_IEEE_F64LE()
  case .int32: dbal_H5T_STD_I32LE()
  case .int64: dbal_H5T_STD_I64LE()
  case .uint8: dbal_H5T_STD_U8LE()
  }
}

private func memoryType(_ type: HDF5ElementType, _ order: HDF5ByteOrder) -> hid_t {
  if order == .littleEndian { return fileType(type) }
  switch type {
  case .float16: return HDF5HalfType.native
  case .float32: return dbal_H5T_NATIVE_FLOAT()
  case .float64: return dbal_H5T_NATIVE_DOUBLE()
  case .int32: return dbal_H5T_NATIVE_INT32()
  case .int64: return dbal_H5T_NATIVE_INT64()
  case .uint8: return dbal_H5T_NATIVE_UINT8()
  }
}

// MARK: - Call site

/// Where a call happens (file and object path), so every error can name both.
struct HDF5Site {
  var file: String
  var object: String

  /// The same file, another object.
  func at(_ object: String) -> HDF5Site { HDF5Site(file: file, object: object) }

  /// A `libraryError` for `operation`, carrying the innermost message of HDF5's error stack
  /// (which it then clears).
  func failure(_ operation: String) -> HDF5Error {
    var innermost: (function: String, message: String)?
    withUnsafeMutablePointer(to: &innermost) { pointer in
      _ = H5Ewalk2(
        dbal_H5E_DEFAULT(),
        H5E_WALK_UPWARD,
        { index, entry, clientData in
          guard index == 0, let entry, let clientData else { return 0 }
          let slot = clientData.assumingMemoryBound(
            to: Optional<(function: String, message: String)>.self
          )
          slot.pointee = (
            entry.pointee.func_name.map { String(cString: $0) } ?? "?",
            entry.pointee.desc.map { String(cString: $0) } ?? "unknown error"
          )
          return 0
        },
        pointer
      )
    }
    H5Eclear2(dbal_H5E_DEFAULT())
    let message = innermost.map { "\($0.message) (in \($0.function))" } ?? "no HDF5 error message"
    return .libraryError(file: file, object: object, operation: operation, message: message)
  }

  func check(_ status: herr_t, _ operation: String) throws(HDF5Error) {
    if status < 0 { throw failure(operation) }
  }

  func truth(_ value: htri_t, _ operation: String) throws(HDF5Error) -> Bool {
    if value < 0 { throw failure(operation) }
    return value > 0
  }

  func own(
    _ id: hid_t,
    _ kind: HDF5Handle.Kind,
    _ operation: String
  ) throws(HDF5Error)
    -> HDF5Handle
  {
    if id < 0 { throw failure(operation) }
    return HDF5Handle(id, kind: kind)
  }
}

// MARK: - Files

extension HDF5Site {
  /// Creates (truncating) the file at `file` with the default, earliest format bounds.
  func createFile() throws(HDF5Error) -> HDF5Handle {
    try own(
      H5Fcreate(file, dbal_H5F_ACC_TRUNC(), dbal_H5P_DEFAULT(), dbal_H5P_DEFAULT()),
      .file,
      "create file"
    )
  }

  func openFile(writable: Bool) throws(HDF5Error) -> HDF5Handle {
    let flags = writable ? dbal_H5F_ACC_RDWR() : dbal_H5F_ACC_RDONLY()
    return try own(H5Fopen(file, flags, dbal_H5P_DEFAULT()), .file, "open file")
  }

  func flush(_ file: HDF5Handle) throws(HDF5Error) {
    try check(H5Fflush(file.id, H5F_SCOPE_LOCAL), "flush")
  }

  func close(_ handle: HDF5Handle) throws(HDF5Error) {
    try check(handle.close(), "close")
  }
}

// MARK: - Links and groups

/// What a path names inside a file.
enum HDF5ObjectKind {
  case group, dataset, other
}

extension HDF5Site {
  /// The kind of object at `object`, or nil when it or any parent does not exist.
  func objectKind(in file: HDF5Handle) -> HDF5ObjectKind? {
    if object == "/" { return .group }
    var prefix = ""
    for component in object.split(separator: "/") {
      prefix += "/" + component
      guard H5Lexists(file.id, prefix, dbal_H5P_DEFAULT()) > 0 else {
        H5Eclear2(dbal_H5E_DEFAULT())
        return nil
      }
    }
    var info = H5O_info_t()
    guard
      H5Oget_info_by_name2(file.id, prefix, &info, UInt32(H5O_INFO_BASIC), dbal_H5P_DEFAULT())
        >= 0
    else {
      H5Eclear2(dbal_H5E_DEFAULT())
      return nil
    }
    switch info.type {
    case H5O_TYPE_GROUP: return .group
    case H5O_TYPE_DATASET: return .dataset
    default: return .other
    }
  }

  /// Creates the single group `object`, whose parent must exist, without time stamps.
  func createGroup(in file: HDF5Handle) throws(HDF5Error) {
    let properties = try objectCreationProperties(dbal_H5P_GROUP_CREATE())
    let group = try own(
      H5Gcreate2(file.id, object, dbal_H5P_DEFAULT(), properties.id, dbal_H5P_DEFAULT()),
      .group,
      "create group"
    )
    try close(group)
  }

  /// Object-creation properties with modification-time tracking off, so equal content
  /// produces equal bytes.
  private func objectCreationProperties(_ propertyClass: hid_t) throws(HDF5Error) -> HDF5Handle {
    let properties = try own(H5Pcreate(propertyClass), .propertyList, "create property list for")
    try check(H5Pset_obj_track_times(properties.id, false), "turn off time tracking for")
    return properties
  }

  /// Every dataset below the root, as paths without a leading "/", in visiting order.
  func datasetPaths(in file: HDF5Handle) throws(HDF5Error) -> [String] {
    var paths: [String] = []
    let status = withUnsafeMutablePointer(to: &paths) { pointer in
      H5Ovisit2(
        file.id,
        H5_INDEX_NAME,
        H5_ITER_INC,
        { _, name, info, clientData in
          guard let name, let info, let clientData else { return -1 }
          if info.pointee.type == H5O_TYPE_DATASET {
            clientData.assumingMemoryBound(to: [String].self).pointee.append(String(cString: name))
          }
          return 0
        },
        pointer,
        UInt32(H5O_INFO_BASIC)
      )
    }
    try check(status, "list the datasets of")
    return paths
  }
}

// MARK: - Datasets

extension HDF5Site {
  /// Creates the dataset `object` (parent groups must exist) with little-endian file type
  /// and, when `chunkShape` is given, chunked shuffle + deflate storage.
  func createDataset(
    in file: HDF5Handle,
    elementType: HDF5ElementType,
    shape: [Int],
    chunkShape: [Int]?,
    deflateLevel: Int
  ) throws(HDF5Error) -> HDF5Handle {
    let space = try dataspace(shape: shape)
    let properties = try objectCreationProperties(dbal_H5P_DATASET_CREATE())
    if let chunkShape {
      let dims = chunkShape.map { hsize_t($0) }
      try check(H5Pset_chunk(properties.id, Int32(dims.count), dims), "set the chunk shape of")
      try check(H5Pset_shuffle(properties.id), "set the shuffle filter of")
      try check(H5Pset_deflate(properties.id, UInt32(deflateLevel)), "set the deflate filter of")
    }
    return try own(
      H5Dcreate2(
        file.id,
        object,
        fileType(elementType),
        space.id,
        dbal_H5P_DEFAULT(),
        properties.id,
        dbal_H5P_DEFAULT()
      ),
      .dataset,
      "create dataset"
    )
  }

  /// Writes all elements of `dataset` from `bytes` (native byte order, C order).
  func write(
    _ bytes: UnsafeRawBufferPointer,
    to dataset: HDF5Handle,
    elementType: HDF5ElementType
  ) throws(HDF5Error) {
    guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
    try check(
      H5Dwrite(
        dataset.id,
        memoryType(elementType, .native),
        dbal_H5S_ALL(),
        dbal_H5S_ALL(),
        dbal_H5P_DEFAULT(),
        base
      ),
      "write dataset"
    )
  }

  func openDataset(in file: HDF5Handle) throws(HDF5Error) -> HDF5Handle {
    try own(H5Dopen2(file.id, object, dbal_H5P_DEFAULT()), .dataset, "open dataset")
  }

  /// The stored type of a dataset or attribute handle.
  func storedType(of handle: HDF5Handle) throws(HDF5Error) -> HDF5StoredType {
    let type = try own(
      handle.kind == .attribute ? H5Aget_type(handle.id) : H5Dget_type(handle.id),
      .datatype,
      "get the type of"
    )
    return try describe(type)
  }

  /// The shape of a dataset or attribute handle; `[]` for scalar (and null) dataspaces.
  func shape(of handle: HDF5Handle) throws(HDF5Error) -> [Int] {
    let space = try own(
      handle.kind == .attribute ? H5Aget_space(handle.id) : H5Dget_space(handle.id),
      .dataspace,
      "get the dataspace of"
    )
    let rank = H5Sget_simple_extent_ndims(space.id)
    if rank < 0 { throw failure("get the rank of") }
    var dims = [hsize_t](repeating: 0, count: Int(rank))
    if rank > 0 {
      try check(H5Sget_simple_extent_dims(space.id, &dims, nil), "get the shape of")
    }
    return dims.map { Int($0) }
  }

  /// Reads all elements of a dataset or attribute handle into `buffer`, converting to
  /// `byteOrder`; the caller has checked the stored type and sized the buffer.
  func read(
    _ handle: HDF5Handle,
    as elementType: HDF5ElementType,
    byteOrder: HDF5ByteOrder,
    into buffer: UnsafeMutableRawBufferPointer
  ) throws(HDF5Error) {
    guard let base = buffer.baseAddress, !buffer.isEmpty else { return }
    let type = memoryType(elementType, byteOrder)
    let status =
      handle.kind == .attribute
      ? H5Aread(handle.id, type, base)
      : H5Dread(handle.id, type, dbal_H5S_ALL(), dbal_H5S_ALL(), dbal_H5P_DEFAULT(), base)
    try check(status, "read")
  }

  private func dataspace(shape: [Int]) throws(HDF5Error) -> HDF5Handle {
    if shape.isEmpty {
      return try own(H5Screate(H5S_SCALAR), .dataspace, "create a scalar dataspace for")
    }
    let dims = shape.map { hsize_t($0) }
    return try own(
      H5Screate_simple(Int32(dims.count), dims, nil),
      .dataspace,
      "create a dataspace for"
    )
  }

  private func describe(_ type: HDF5Handle) throws(HDF5Error) -> HDF5StoredType {
    let size = H5Tget_size(type.id)
    switch H5Tget_class(type.id) {
    case H5T_FLOAT:
      return try describeFloat(type, byteCount: size)
    case H5T_INTEGER:
      let isSigned = H5Tget_sign(type.id) == H5T_SGN_2
      switch (isSigned, size) {
      case (true, 4): return .element(.int32)
      case (true, 8): return .element(.int64)
      case (false, 1): return .element(.uint8)
      default: return .unsupported("\(isSigned ? "int" : "uint")\(size * 8)")
      }
    case H5T_STRING:
      return try truth(H5Tis_variable_str(type.id), "inspect the string type of")
        ? .variableLengthString : .fixedLengthString
    case H5T_COMPOUND: return .unsupported("a compound type")
    case H5T_NO_CLASS: throw failure("get the type class of")
    default: return .unsupported("an unsupported type class")
    }
  }
}

// MARK: - Floating-point layouts

extension HDF5Site {
  /// The IEEE element type of a float type of `byteCount` bytes, in either byte order, or
  /// `.unsupported` naming its layout when it is not IEEE binary16, binary32 or binary64 (a
  /// bfloat16, say, is 2 bytes too, and must not be read as a half).
  fileprivate func describeFloat(
    _ type: HDF5Handle,
    byteCount: Int
  ) throws(HDF5Error) -> HDF5StoredType {
    var sign = 0
    var exponent = 0
    var exponentSize = 0
    var mantissa = 0
    var mantissaSize = 0
    try check(
      H5Tget_fields(type.id, &sign, &exponent, &exponentSize, &mantissa, &mantissaSize),
      "get the float layout of"
    )
    let precision = H5Tget_precision(type.id)
    let offset = H5Tget_offset(type.id)
    let bias = H5Tget_ebias(type.id)
    let normalization = H5Tget_norm(type.id)
    if precision == 0 || offset < 0 || normalization == H5T_NORM_ERROR {
      throw failure("get the float layout of")
    }
    let bits = byteCount * 8
    let ieee: [Int: (HDF5ElementType, exponentSize: Int, bias: Int)] = [
      16: (.float16, 5, 15), 32: (.float32, 8, 127), 64: (.float64, 11, 1023),
    ]
    if let (elementType, wantedExponentSize, wantedBias) = ieee[bits],
      precision == bits, offset == 0, sign == bits - 1, mantissa == 0,
      exponentSize == wantedExponentSize, exponent == bits - 1 - exponentSize,
      mantissaSize == exponent, bias == wantedBias, normalization == H5T_NORM_IMPLIED
    {
      return .element(elementType)
    }
    return .unsupported(
      "a \(bits)-bit float with \(exponentSize) exponent and \(mantissaSize) mantissa bits "
        + "(not IEEE binary\(bits))"
    )
  }
}

// MARK: - Strings

extension HDF5Site {
  /// A fixed-length, null-padded UTF-8 string type of `byteCount` bytes (at least 1).
  private func stringType(byteCount: Int) throws(HDF5Error) -> HDF5Handle {
    let type = try own(H5Tcopy(dbal_H5T_C_S1()), .datatype, "create a string type for")
    try check(H5Tset_size(type.id, max(1, byteCount)), "size the string type of")
    try check(H5Tset_cset(type.id, H5T_CSET_UTF8), "set UTF-8 on the string type of")
    try check(H5Tset_strpad(type.id, H5T_STR_NULLPAD), "set padding on the string type of")
    return type
  }

  /// Writes `string` as the scalar fixed-length string dataset `object`.
  func writeStringDataset(_ string: String, in file: HDF5Handle) throws(HDF5Error) {
    let bytes = Array(string.utf8)
    let type = try stringType(byteCount: bytes.count)
    let space = try dataspace(shape: [])
    let properties = try objectCreationProperties(dbal_H5P_DATASET_CREATE())
    let dataset = try own(
      H5Dcreate2(
        file.id,
        object,
        type.id,
        space.id,
        dbal_H5P_DEFAULT(),
        properties.id,
        dbal_H5P_DEFAULT()
      ),
      .dataset,
      "create string dataset"
    )
    let padded = bytes.isEmpty ? [0] : bytes
    try check(
      H5Dwrite(dataset.id, type.id, dbal_H5S_ALL(), dbal_H5S_ALL(), dbal_H5P_DEFAULT(), padded),
      "write string dataset"
    )
    try close(dataset)
  }

  /// Reads a scalar fixed-length string from a dataset or attribute handle.
  func readString(_ handle: HDF5Handle) throws(HDF5Error) -> String {
    let type = try own(
      handle.kind == .attribute ? H5Aget_type(handle.id) : H5Dget_type(handle.id),
      .datatype,
      "get the type of"
    )
    let size = H5Tget_size(type.id)
    var bytes = [UInt8](repeating: 0, count: size)
    let status =
      handle.kind == .attribute
      ? H5Aread(handle.id, type.id, &bytes)
      : H5Dread(handle.id, type.id, dbal_H5S_ALL(), dbal_H5S_ALL(), dbal_H5P_DEFAULT(), &bytes)
    try check(status, "read string")
    while bytes.last == 0 { bytes.removeLast() }
    return String(decoding: bytes, as: UTF8.self)
  }
}

// MARK: - Attributes

extension HDF5Site {
  private func openObject(in file: HDF5Handle) throws(HDF5Error) -> HDF5Handle {
    try own(H5Oopen(file.id, object, dbal_H5P_DEFAULT()), .object, "open object")
  }

  /// Sets attribute `name` on `object`, replacing an existing attribute of that name.
  func setAttribute(
    _ name: String,
    _ value: HDF5AttributeValue,
    in file: HDF5Handle
  )
    throws(HDF5Error)
  {
    let target = try openObject(in: file)
    let attributeSite = at("\(object) @\(name)")
    if try attributeSite.truth(H5Aexists(target.id, name), "look up attribute") {
      try attributeSite.check(H5Adelete(target.id, name), "replace attribute")
    }
    switch value {
    case .string(let string):
      let bytes = Array(string.utf8)
      let type = try stringType(byteCount: bytes.count)
      let attribute = try attributeSite.createAttribute(name, on: target, type: type.id, shape: [])
      try attributeSite.check(
        H5Awrite(attribute.id, type.id, bytes.isEmpty ? [0] : bytes),
        "write attribute"
      )
    case .int(let scalar):
      try attributeSite.writeNumericAttribute(name, on: target, [scalar], shape: [], .int64)
    case .double(let scalar):
      try attributeSite.writeNumericAttribute(name, on: target, [scalar], shape: [], .float64)
    case .ints(let values):
      try attributeSite.writeNumericAttribute(
        name,
        on: target,
        values,
        shape: [values.count],
        .int64
      )
    case .doubles(let values):
      try attributeSite.writeNumericAttribute(
        name,
        on: target,
        values,
        shape: [values.count],
        .float64
      )
    }
  }

  private func createAttribute(
    _ name: String,
    on target: HDF5Handle,
    type: hid_t,
    shape: [Int]
  )
    throws(HDF5Error) -> HDF5Handle
  {
    let space = try dataspace(shape: shape)
    return try own(
      H5Acreate2(target.id, name, type, space.id, dbal_H5P_DEFAULT(), dbal_H5P_DEFAULT()),
      .attribute,
      "create attribute"
    )
  }

  private func writeNumericAttribute<E: HDF5Element>(
    _ name: String,
    on target: HDF5Handle,
    _ values: [E],
    shape: [Int],
    _ type: HDF5ElementType
  ) throws(HDF5Error) {
    let attribute = try createAttribute(name, on: target, type: fileType(type), shape: shape)
    guard !values.isEmpty else { return }
    let status = values.withUnsafeBytes {
      H5Awrite(attribute.id, memoryType(type, .native), $0.baseAddress)
    }
    try check(status, "write attribute")
  }

  /// Reads attribute `name` of `object`.
  func attribute(_ name: String, in file: HDF5Handle) throws(HDF5Error) -> HDF5AttributeValue {
    let target = try openObject(in: file)
    let attributeSite = at("\(object) @\(name)")
    guard try attributeSite.truth(H5Aexists(target.id, name), "look up attribute") else {
      throw .objectNotFound(file: self.file, object: attributeSite.object)
    }
    let attribute = try attributeSite.own(
      H5Aopen(target.id, name, dbal_H5P_DEFAULT()),
      .attribute,
      "open attribute"
    )
    let type = try attributeSite.storedType(of: attribute)
    let shape = try attributeSite.shape(of: attribute)
    let mismatch = HDF5Error.typeMismatch(
      file: self.file,
      object: attributeSite.object,
      expected: "a string, int64 or float64 scalar or one-dimensional array",
      found: "\(type) of shape \(shape)"
    )
    switch (type, shape.count) {
    case (.fixedLengthString, 0):
      return .string(try attributeSite.readString(attribute))
    case (.element(.int64), 0):
      return .int(try attributeSite.readNumeric(attribute, count: 1, as: Int64.self)[0])
    case (.element(.float64), 0):
      return .double(try attributeSite.readNumeric(attribute, count: 1, as: Double.self)[0])
    case (.element(.int64), 1):
      return .ints(try attributeSite.readNumeric(attribute, count: shape[0], as: Int64.self))
    case (.element(.float64), 1):
      return .doubles(try attributeSite.readNumeric(attribute, count: shape[0], as: Double.self))
    default:
      throw mismatch
    }
  }

  private func readNumeric<E: HDF5Element>(
    _ attribute: HDF5Handle,
    count: Int,
    as _: E.Type
  )
    throws(HDF5Error) -> [E]
  {
    var values = [E]()
    values.reserveCapacity(count)
    var failure: HDF5Error?
    values = [E](unsafeUninitializedCapacity: count) { buffer, initialized in
      do throws(HDF5Error) {
        try read(
          attribute,
          as: E.hdf5ElementType,
          byteOrder: .native,
          into: UnsafeMutableRawBufferPointer(buffer)
        )
        initialized = count
      } catch {
        failure = error
        initialized = 0
      }
    }
    if let failure { throw failure }
    return values
  }

  /// The names of all attributes of `object`, in name order.
  func attributeNames(in file: HDF5Handle) throws(HDF5Error) -> [String] {
    let target = try openObject(in: file)
    var names: [String] = []
    let status = withUnsafeMutablePointer(to: &names) { pointer in
      H5Aiterate2(
        target.id,
        H5_INDEX_NAME,
        H5_ITER_INC,
        nil,
        { _, name, _, clientData in
          guard let name, let clientData else { return -1 }
          clientData.assumingMemoryBound(to: [String].self).pointee.append(String(cString: name))
          return 0
        },
        pointer
      )
    }
    try check(status, "list the attributes of")
    return names
  }
}
