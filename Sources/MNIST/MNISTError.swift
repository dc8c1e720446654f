// MARK: - Errors

/// A failure fetching, verifying, parsing or loading MNIST; every case names the file,
/// says what was expected and what was found, and how to fix it.
public enum MNISTError: Error, CustomStringConvertible, Equatable {
  /// Every source for `file` failed; `attempts` lists each source with its failure.
  case unavailable(file: String, attempts: [String])
  /// The server at `url` answered with HTTP status `status` instead of the file.
  case httpStatus(url: String, status: Int)
  /// The local mirror holds neither `name.gz` nor `name`.
  case missingFromMirror(file: String, mirror: String)
  /// The decompressed content of `file` (from `source`) has the wrong SHA-256.
  case checksumMismatch(file: String, source: String, expected: String, actual: String)
  /// `file` has the wrong length in bytes.
  case wrongLength(file: String, expected: Int, actual: Int)
  /// `file` does not start with the expected idx magic number.
  case notIDX(file: String, expectedMagic: UInt32, foundMagic: UInt32)
  /// `file` declares other image dimensions than 28 × 28.
  case wrongDimensions(file: String, expected: [Int], found: [Int])
  /// `file` declares another number of items than expected.
  case wrongCount(file: String, expected: Int, found: Int)
  /// The images and labels files of one split disagree on the number of examples.
  case countMismatch(images: String, labels: String, imageCount: Int, labelCount: Int)
  /// Label number `index` of `file` is `value`, outside 0...9.
  case labelOutOfRange(file: String, index: Int, value: UInt8)
  /// `file` is not valid gzip (or is cut short); `message` is zlib's.
  case corruptGzip(file: String, message: String)
  /// Reading or writing `file` failed at the operating-system level.
  case fileSystem(file: String, operation: String, message: String)
  /// The preprocessed HDF5 file is not what ``MNISTDataset`` expects.
  case invalidPreprocessedFile(file: String, problem: String)

  private static let mirrorHint =
    "pass --mnist-mirror DIR (a folder with the four .gz files) or set DBAL_MNIST_MIRROR"

  /// A message naming the file, expected vs found, and the fix.
  public var description: String {
    switch self {
    case .unavailable(let file, let attempts):
      "Could not obtain MNIST file '\(file)' from any source:\n"
        + attempts.map { "  - \($0)" }.joined(separator: "\n")
        + "\nWithout network access, \(Self.mirrorHint)."
    case .httpStatus(let url, let status):
      "'\(url)' answered HTTP \(status); the mirror may have moved: try another one."
    case .missingFromMirror(let file, let mirror):
      "The MNIST mirror '\(mirror)' has neither '\(file).gz' nor '\(file)'; copy the file "
        + "there, or \(Self.mirrorHint) pointing at a complete mirror."
    case .checksumMismatch(let file, let source, let expected, let actual):
      "MNIST file '\(file)' from '\(source)' has SHA-256 \(actual), expected \(expected) "
        + "(digest of the decompressed content); the copy is damaged or a different file: "
        + "replace it with the original."
    case .wrongLength(let file, let expected, let actual):
      "MNIST file '\(file)' is \(actual) bytes, expected \(expected) (truncated or padded); "
        + "delete it and fetch it again."
    case .notIDX(let file, let expectedMagic, let foundMagic):
      "'\(file)' is not an MNIST idx file of this kind: magic number \(foundMagic), expected "
        + "\(expectedMagic); check that images and labels files are not swapped or renamed."
    case .wrongDimensions(let file, let expected, let found):
      "MNIST file '\(file)' has images of \(found.map(String.init).joined(separator: " x ")), "
        + "expected \(expected.map(String.init).joined(separator: " x ")); use the original files."
    case .wrongCount(let file, let expected, let found):
      "MNIST file '\(file)' declares \(found) items, expected \(expected); use the original files."
    case .countMismatch(let images, let labels, let imageCount, let labelCount):
      "'\(images)' has \(imageCount) images but '\(labels)' has \(labelCount) labels; "
        + "use files from the same split."
    case .labelOutOfRange(let file, let index, let value):
      "MNIST file '\(file)' has label \(value) at index \(index), expected 0...9; the file is "
        + "damaged: delete it and fetch it again."
    case .corruptGzip(let file, let message):
      "'\(file)' is not valid gzip (\(message)); delete it and fetch it again."
    case .fileSystem(let file, let operation, let message):
      "Could not \(operation) '\(file)': \(message)."
    case .invalidPreprocessedFile(let file, let problem):
      "The preprocessed MNIST file '\(file)' is unusable: \(problem); delete it and run "
        + "`pipeline fetch mnist`."
    }
  }
}
