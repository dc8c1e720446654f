// MARK: - The four published files

/// Which half of MNIST a file belongs to.
public enum MNISTSplit: String, Sendable, CaseIterable, Codable {
  /// The 60,000 training examples.
  case train
  /// The 10,000 test examples.
  case test
}

/// One of the four idx files published by LeCun, Cortes and Burges, with the size and
/// SHA-256 of its decompressed content (the files themselves travel gzip-compressed).
public struct MNISTFile: Sendable, Hashable, CustomStringConvertible {
  /// Whether a file holds images or labels.
  public enum Kind: String, Sendable, Codable {
    /// idx3: magic 2051, count × 28 × 28 unsigned bytes.
    case images
    /// idx1: magic 2049, count unsigned bytes in 0...9.
    case labels
  }

  /// The published name of the decompressed file, e.g. `train-images-idx3-ubyte`.
  public let name: String
  /// The half of MNIST the file belongs to.
  public let split: MNISTSplit
  /// Images or labels.
  public let kind: Kind
  /// The number of images or labels in the file.
  public let itemCount: Int
  /// The length of the decompressed file in bytes.
  public let byteCount: Int
  /// The SHA-256 of the decompressed file, lowercase hex.
  public let sha256: String

  /// The published name of the compressed file, e.g. `train-images-idx3-ubyte.gz`.
  public var compressedName: String { name + ".gz" }

  /// The idx magic number the file starts with.
  public var magic: UInt32 { kind == .images ? 2051 : 2049 }

  /// The file's name.
  public var description: String { name }

  // MARK: Catalogue

  /// The 60,000 training images.
  public static let trainImages = MNISTFile(
    name: "train-images-idx3-ubyte",
    split: .train,
    kind: .images,
    itemCount: 60_000,
    byteCount: 47_040_016,
    sha256: "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"
  )
  /// The 60,000 training labels.
  public static let trainLabels = MNISTFile(
    name: "train-labels-idx1-ubyte",
    split: .train,
    kind: .labels,
    itemCount: 60_000,
    byteCount: 60_008,
    sha256: "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"
  )
  /// The 10,000 test images.
  public static let testImages = MNISTFile(
    name: "t10k-images-idx3-ubyte",
    split: .test,
    kind: .images,
    itemCount: 10_000,
    byteCount: 7_840_016,
    sha256: "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"
  )
  /// The 10,000 test labels.
  public static let testLabels = MNISTFile(
    name: "t10k-labels-idx1-ubyte",
    split: .test,
    kind: .labels,
    itemCount: 10_000,
    byteCount: 10_008,
    sha256: "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"
  )

  /// All four files: train images, train labels, test images, test labels.
  public static let all: [MNISTFile] = [trainImages, trainLabels, testImages, testLabels]

  /// The images and labels files of `split`.
  public static func files(of split: MNISTSplit) -> (images: MNISTFile, labels: MNISTFile) {
    split == .train ? (trainImages, trainLabels) : (testImages, testLabels)
  }
}
