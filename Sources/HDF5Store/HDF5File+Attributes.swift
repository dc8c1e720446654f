// MARK: - Attributes

extension HDF5File {
  /// Sets attribute `name` on the group or dataset `object` (the root by default),
  /// replacing an existing attribute of that name.
  ///
  /// Attributes live in the object header (64 KiB in all): store large text, such as
  /// provenance JSON, with ``writeString(_:to:)`` instead.
  public func setAttribute(
    _ name: String,
    _ value: HDF5AttributeValue,
    on object: String = "/"
  )
    throws
  {
    try withFile(object) { (file, site) throws(HDF5Error) in
      try Self.requireObject(site, in: file)
      try site.setAttribute(name, value, in: file)
    }
  }

  /// The value of attribute `name` on `object`.
  ///
  /// - Throws: ``HDF5Error/objectNotFound(file:object:)`` when the object or the attribute
  ///   does not exist (the object path then reads "object @name").
  public func attribute(_ name: String, on object: String = "/") throws -> HDF5AttributeValue {
    try withFile(object) { (file, site) throws(HDF5Error) in
      try Self.requireObject(site, in: file)
      return try site.attribute(name, in: file)
    }
  }

  /// The names of the attributes of `object`, sorted.
  public func attributeNames(on object: String = "/") throws -> [String] {
    try withFile(object) { (file, site) throws(HDF5Error) in
      try Self.requireObject(site, in: file)
      return try site.attributeNames(in: file).sorted()
    }
  }

  private static func requireObject(_ site: HDF5Site, in file: HDF5Handle) throws(HDF5Error) {
    guard site.objectKind(in: file) != nil else {
      throw .objectNotFound(file: site.file, object: site.object)
    }
  }
}
