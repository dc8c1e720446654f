// MARK: - Numeric datasets

extension HDF5File {
  /// Writes `values` (C order) as a new dataset of `shape` at `path`, creating parent groups.
  ///
  /// Rank 0 (a scalar, `shape: []`) and any higher rank are supported. The file type is the
  /// little-endian type of `E` (`H5T_IEEE_F32LE`, `H5T_STD_I64LE`, ..., and for `Float16`
  /// the IEEE half type h5py writes), so values are stored exactly as given.
  ///
  /// - Precondition: `values.count` is the product of `shape`.
  /// - Throws: ``HDF5Error/objectExists(file:object:)`` if `path` is taken.
  public func write<E: HDF5Element>(
    _ values: [E],
    shape: [Int],
    to path: String,
    compression: HDF5Compression = .automatic
  ) throws {
    precondition(shape.allSatisfy { $0 >= 0 }, "HDF5File.write: negative extent in \(shape)")
    precondition(
      values.count == shape.reduce(1, *),
      "HDF5File.write: \(values.count) values do not fill shape \(shape) at '\(path)'"
    )
    let elementType = E.hdf5ElementType
    try withFile(path) { (file, site) throws(HDF5Error) in
      try Self.prepareNewObject(site, in: file)
      let level = compression.deflateLevel(
        byteCount: values.count * elementType.byteCount,
        shape: shape
      )
      let dataset = try site.createDataset(
        in: file,
        elementType: elementType,
        shape: shape,
        chunkShape: level.map { _ in Self.chunkShape(for: shape, elementSize: elementType.byteCount)
        },
        deflateLevel: level ?? 0
      )
      let status: Result<Void, HDF5Error> = values.withUnsafeBytes { bytes in
        Result { () throws(HDF5Error) in
          try site.write(bytes, to: dataset, elementType: elementType)
        }
      }
      try status.get()
      try site.close(dataset)
    }
  }

  /// Reads the dataset at `path` as elements of `E`.
  ///
  /// - Throws: ``HDF5Error/objectNotFound(file:object:)``, or
  ///   ``HDF5Error/typeMismatch(file:object:expected:found:)`` when the stored type is not
  ///   exactly `E`'s (values are never converted silently; converting floating-point reads
  ///   are ``read(_:wideningTo:)``).
  public func read<E: HDF5Element>(
    _ path: String,
    as type: E.Type = E.self
  ) throws
    -> HDF5Array<E>
  {
    try withFile(path) { (file, site) throws(HDF5Error) in
      let dataset = try Self.openDataset(site, in: file)
      let info = try Self.info(of: dataset, site)
      guard info.elementType == E.hdf5ElementType else {
        throw .typeMismatch(
          file: site.file,
          object: site.object,
          expected: E.hdf5ElementType.rawValue,
          found: info.elementType.rawValue
        )
      }
      let values: [E] = try Self.readElements(
        info.elementCount,
        of: dataset,
        as: info.elementType,
        byteOrder: .native,
        site
      )
      return HDF5Array(shape: info.shape, values: values)
    }
  }

  /// Reads the floating-point dataset at `path` as elements of `E`, which must be at least as
  /// wide as the stored type (float16 as `Float` or `Double`, float32 as `Double`, or any type
  /// as itself); HDF5 converts while reading.
  ///
  /// Widening is exact: every value, including infinities, signed zeros and subnormals, reads
  /// as the same number, and a NaN as a NaN. Narrowing is refused because HDF5 1.10 does not
  /// round as IEEE does (float32 to float16 rounds ties away from zero, and 65520 becomes
  /// 65504, not infinity; float64 to float32 turns values less than half an ulp above
  /// `Float.greatestFiniteMagnitude` into infinities): read with the stored type and convert
  /// with `Float(_:)` or `Float16(_:)`.
  ///
  /// - Throws: ``HDF5Error/objectNotFound(file:object:)``, or
  ///   ``HDF5Error/typeMismatch(file:object:expected:found:)`` when the dataset is not
  ///   floating-point or is wider than `E`.
  public func read<E: HDF5Element & BinaryFloatingPoint>(
    _ path: String,
    wideningTo type: E.Type
  ) throws -> HDF5Array<E> {
    try withFile(path) { (file, site) throws(HDF5Error) in
      let dataset = try Self.openDataset(site, in: file)
      let info = try Self.info(of: dataset, site)
      let target = E.hdf5ElementType
      guard info.elementType.isFloatingPoint, info.elementType.byteCount <= target.byteCount
      else {
        let narrower = HDF5ElementType.allCases.filter {
          $0.isFloatingPoint && $0.byteCount <= target.byteCount
        }
        throw .typeMismatch(
          file: site.file,
          object: site.object,
          expected: narrower.map(\.rawValue).joined(separator: ", ")
            + " (read wider floats with their own type and convert in Swift)",
          found: info.elementType.rawValue
        )
      }
      let values: [E] = try Self.readElements(
        info.elementCount,
        of: dataset,
        as: target,
        byteOrder: .native,
        site
      )
      return HDF5Array(shape: info.shape, values: values)
    }
  }

  /// The element type and shape of the dataset at `path`.
  public func info(_ path: String) throws -> HDF5DatasetInfo {
    try withFile(path) { (file, site) throws(HDF5Error) in
      try Self.info(of: Self.openDataset(site, in: file), site)
    }
  }

  /// The elements of the dataset at `path` as little-endian bytes in C order, whatever the
  /// host's byte order: the input for logical content digests.
  public func readRawBytes(_ path: String) throws -> [UInt8] {
    try withFile(path) { (file, site) throws(HDF5Error) in
      let dataset = try Self.openDataset(site, in: file)
      let info = try Self.info(of: dataset, site)
      return try Self.readElements(
        info.elementCount * info.elementType.byteCount,
        of: dataset,
        as: info.elementType,
        byteOrder: .littleEndian,
        site
      )
    }
  }

  // MARK: - String datasets

  /// Writes `string` as a new scalar UTF-8 string dataset at `path` (for text too large for
  /// an attribute, such as provenance JSON), creating parent groups.
  public func writeString(_ string: String, to path: String) throws {
    try withFile(path) { (file, site) throws(HDF5Error) in
      try Self.prepareNewObject(site, in: file)
      try site.writeStringDataset(string, in: file)
    }
  }

  /// Reads the scalar string dataset at `path`.
  public func readString(_ path: String) throws -> String {
    try withFile(path) { (file, site) throws(HDF5Error) in
      let dataset = try Self.openDataset(site, in: file)
      let type = try site.storedType(of: dataset)
      guard type == .fixedLengthString else {
        throw .typeMismatch(
          file: site.file,
          object: site.object,
          expected: "a fixed-length string",
          found: type.description
        )
      }
      let shape = try site.shape(of: dataset)
      guard shape.isEmpty else {
        throw .shapeMismatch(file: site.file, object: site.object, expected: [], found: shape)
      }
      return try site.readString(dataset)
    }
  }

  // MARK: - Helpers

  /// A chunk shape of about `targetBytes`: whole trailing dimensions, split along the
  /// leading ones (rows of an image batch stay together, so reading one sample touches
  /// one chunk).
  static func chunkShape(
    for shape: [Int],
    elementSize: Int,
    targetBytes: Int = 1 << 20
  )
    -> [Int]
  {
    var chunk = shape
    for axis in chunk.indices {
      let sliceBytes = chunk[(axis + 1)...].reduce(elementSize, *)
      if chunk[axis] * sliceBytes <= targetBytes { break }
      chunk[axis] = max(1, targetBytes / sliceBytes)
    }
    return chunk
  }

  static func openDataset(_ site: HDF5Site, in file: HDF5Handle) throws(HDF5Error) -> HDF5Handle {
    switch site.objectKind(in: file) {
    case .dataset: return try site.openDataset(in: file)
    case nil: throw .objectNotFound(file: site.file, object: site.object)
    case .group, .other:
      throw .typeMismatch(
        file: site.file,
        object: site.object,
        expected: "a dataset",
        found: "a group"
      )
    }
  }

  static func info(of dataset: HDF5Handle, _ site: HDF5Site) throws(HDF5Error) -> HDF5DatasetInfo {
    let type = try site.storedType(of: dataset)
    guard case .element(let elementType) = type else {
      throw .typeMismatch(
        file: site.file,
        object: site.object,
        expected: "a numeric dataset",
        found: type.description
      )
    }
    return HDF5DatasetInfo(elementType: elementType, shape: try site.shape(of: dataset))
  }

  static func readElements<T: BitwiseCopyable>(
    _ count: Int,
    of dataset: HDF5Handle,
    as elementType: HDF5ElementType,
    byteOrder: HDF5ByteOrder,
    _ site: HDF5Site
  ) throws(HDF5Error) -> [T] {
    var failure: HDF5Error?
    let values = [T](unsafeUninitializedCapacity: count) { buffer, initialized in
      do throws(HDF5Error) {
        try site.read(
          dataset,
          as: elementType,
          byteOrder: byteOrder,
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
}
