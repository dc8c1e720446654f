// MARK: - Library

/// Facts about the linked libhdf5.
public enum HDF5Library {
  /// The linked library's version, e.g. "1.10.8" (a toolchain fingerprint for cache keys).
  public static var version: String { HDF5Runtime.libraryVersion }
}
