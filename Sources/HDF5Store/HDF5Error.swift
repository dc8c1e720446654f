// MARK: - Errors

/// A failure reading or writing an HDF5 file; every case names the file and, where there is
/// one, the object inside it.
public enum HDF5Error: Error, CustomStringConvertible, Equatable {
  /// No file exists at `path`.
  case fileNotFound(path: String)
  /// The file at `path` exists but is not an HDF5 file (or its superblock is damaged).
  case notHDF5(path: String)
  /// No group or dataset named `object` exists in `file`.
  case objectNotFound(file: String, object: String)
  /// A dataset or attribute named `object` already exists in `file` and would be overwritten.
  case objectExists(file: String, object: String)
  /// The dataset or attribute `object` holds a different type than the one asked for.
  case typeMismatch(file: String, object: String, expected: String, found: String)
  /// The dataset or attribute `object` has a different shape than the one expected.
  case shapeMismatch(file: String, object: String, expected: [Int], found: [Int])
  /// The HDF5 library reported a failure during `operation`; `message` is the innermost
  /// entry of its error stack.
  case libraryError(file: String, object: String, operation: String, message: String)

  /// A message naming the file, the object, what went wrong and how to fix it.
  public var description: String {
    switch self {
    case .fileNotFound(let path):
      "HDF5 file '\(path)' does not exist; check the path or run the stage that produces it."
    case .notHDF5(let path):
      "'\(path)' is not a readable HDF5 file (wrong format or truncated); delete it and "
        + "re-create it."
    case .objectNotFound(let file, let object):
      "HDF5 file '\(file)' has no object '\(object)'; the file may come from an older version "
        + "of the pipeline: delete it and re-run the stage that writes it."
    case .objectExists(let file, let object):
      "HDF5 file '\(file)' already has '\(object)'; write each object once, or write a new file."
    case .typeMismatch(let file, let object, let expected, let found):
      "'\(object)' in HDF5 file '\(file)' holds \(found), expected \(expected); read it with "
        + "the stored type or re-create the file."
    case .shapeMismatch(let file, let object, let expected, let found):
      "'\(object)' in HDF5 file '\(file)' has shape \(found), expected \(expected); "
        + "delete the file and re-run the stage that writes it."
    case .libraryError(let file, let object, let operation, let message):
      "HDF5 failed to \(operation) '\(object)' in '\(file)': \(message)."
    }
  }
}
