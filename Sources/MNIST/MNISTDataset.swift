import Foundation
import HDF5Store

// MARK: - Preprocessed data set

/// MNIST as the experiments use it: pixels scaled to [0, 1] by `x / 255` (no mean or
/// standard-deviation normalisation, as in the paper's Keras code) and labels 0...9.
///
/// It is stored as one HDF5 file:
///
/// | path | type | shape |
/// |---|---|---|
/// | `train/images` | float32 | 60000 × 28 × 28 |
/// | `train/labels` | int64 | 60000 |
/// | `test/images` | float32 | 10000 × 28 × 28 |
/// | `test/labels` | int64 | 10000 |
///
/// with root attributes `scaling` ("x/255"), `layout_version` and `sha256_<file name>` for
/// each of the four source files. A dataset *derived* from MNIST (Repeated MNIST, a subset of
/// the digits) has the same layout with its own counts and a root attribute `variant` naming
/// it (``variant``); its counts are then read from the file rather than expected.
public struct MNISTDataset: Sendable, Equatable {
  /// The scaling applied to the raw pixels, recorded in the file.
  public static let scaling = "x/255"
  /// The version of the HDF5 layout above; bump it when the layout changes.
  public static let layoutVersion: Int64 = 1
  /// The shape of one image.
  public static let imageShape = [MNISTIDX.imageSide, MNISTIDX.imageSide]

  /// Training images, `trainCount × 28 × 28` values in [0, 1], C order.
  public var trainImages: [Float]
  /// Training labels in 0...9.
  public var trainLabels: [Int32]
  /// Test images, `testCount × 28 × 28` values in [0, 1], C order.
  public var testImages: [Float]
  /// Test labels in 0...9.
  public var testLabels: [Int32]
  /// The variant's name (e.g. `repeated:3x0.1`) for a dataset derived from MNIST; nil for
  /// MNIST itself.
  public var variant: String?

  /// The number of training examples.
  public var trainCount: Int { trainLabels.count }
  /// The number of test examples.
  public var testCount: Int { testLabels.count }
  /// The number of pixels in one image (784).
  public static var pixelsPerImage: Int { imageShape.reduce(1, *) }

  /// Creates a data set from scaled images and labels.
  ///
  /// - Precondition: one 28 × 28 image per label in each split.
  public init(trainImages: [Float], trainLabels: [Int32], testImages: [Float], testLabels: [Int32])
  {
    precondition(
      trainImages.count == trainLabels.count * Self.pixelsPerImage
        && testImages.count == testLabels.count * Self.pixelsPerImage,
      "MNISTDataset: image and label counts disagree"
    )
    self.trainImages = trainImages
    self.trainLabels = trainLabels
    self.testImages = testImages
    self.testLabels = testLabels
  }

  /// Scales raw pixels by `x / 255` in Float32, exactly as `astype('float32') / 255`.
  public init(scaling raw: MNISTRawData) {
    self.init(
      trainImages: Self.scaled(raw.train.pixels),
      trainLabels: raw.train.labels.map(Int32.init),
      testImages: Self.scaled(raw.test.pixels),
      testLabels: raw.test.labels.map(Int32.init)
    )
  }

  private static func scaled(_ pixels: [UInt8]) -> [Float] {
    [Float](unsafeUninitializedCapacity: pixels.count) { output, initialized in
      pixels.withUnsafeBufferPointer { input in
        guard let source = input.baseAddress, let target = output.baseAddress else { return }
        // Raw pointers: no per-element bounds checks, so even debug builds stay fast.
        for index in 0..<input.count { target[index] = Float(source[index]) / 255 }
      }
      initialized = pixels.count
    }
  }

  // MARK: Writing

  /// Parses the four idx files in `rawDirectory` and writes the preprocessed HDF5 file at
  /// `path` (replacing it). The caller publishes it atomically if it needs to.
  public static func preprocess(rawDirectory: URL, to path: String) throws {
    try MNISTDataset(scaling: MNISTRawData(directory: rawDirectory)).write(to: path)
  }

  /// Writes the data set as one HDF5 file at `path` (replacing it), with the layout
  /// described on ``MNISTDataset``.
  public func write(to path: String) throws {
    let file = try HDF5File.create(path)
    let side = MNISTIDX.imageSide
    for (split, images, labels) in [
      (MNISTSplit.train, trainImages, trainLabels), (.test, testImages, testLabels),
    ] {
      // Level 1: mostly-zero digits compress about as well as at level 4, several times faster.
      try file.write(
        images,
        shape: [labels.count, side, side],
        to: "\(split.rawValue)/images",
        compression: .deflate(level: 1)
      )
      try file.write(labels.map(Int64.init), shape: [labels.count], to: "\(split.rawValue)/labels")
    }
    try file.setAttribute("scaling", .string(Self.scaling))
    try file.setAttribute("layout_version", .int(Self.layoutVersion))
    if let variant { try file.setAttribute("variant", .string(variant)) }
    for source in MNISTFile.all {
      try file.setAttribute("sha256_\(source.name)", .string(source.sha256))
    }
    try file.close()
  }

  // MARK: Loading

  /// Loads the preprocessed file at `path`, validating layout, shapes, counts and labels.
  ///
  /// - Throws: ``MNISTError/invalidPreprocessedFile(file:problem:)`` naming the problem and
  ///   the fix (delete the file and run `pipeline fetch mnist`).
  public init(contentsOf path: String) throws {
    func invalid(_ problem: String) -> MNISTError {
      .invalidPreprocessedFile(file: path, problem: problem)
    }
    do {
      let file = try HDF5File.open(path)
      let scaling = try file.attribute("scaling")
      guard scaling == .string(Self.scaling) else {
        throw invalid("its scaling attribute is \(scaling), expected \"\(Self.scaling)\"")
      }
      let version = try file.attribute("layout_version")
      guard version == .int(Self.layoutVersion) else {
        throw invalid("its layout_version is \(version), expected \(Self.layoutVersion)")
      }
      var variant: String?
      if try file.attributeNames().contains("variant"),
        case .string(let name) = try file.attribute("variant")
      {
        variant = name
      }
      func split(_ split: MNISTSplit) throws -> (images: [Float], labels: [Int32]) {
        let imagesPath = "\(split.rawValue)/images"
        let labelsPath = "\(split.rawValue)/labels"
        let images = try file.read(imagesPath, as: Float.self)
        // MNIST has the published counts; a derived dataset the counts its labels hold.
        let count =
          variant == nil
          ? MNISTFile.files(of: split).labels.itemCount : try file.info(labelsPath).shape.first ?? 0
        guard images.shape == [count] + Self.imageShape else {
          throw invalid(
            "'\(imagesPath)' has shape \(images.shape), expected \([count] + Self.imageShape)"
          )
        }
        let labels = try file.read(labelsPath, as: Int64.self)
        guard labels.shape == [count] else {
          throw invalid("'\(labelsPath)' has shape \(labels.shape), expected \([count])")
        }
        if let index = labels.values.firstIndex(where: { !(0...9).contains($0) }) {
          throw invalid("'\(labelsPath)'[\(index)] is \(labels.values[index]), expected 0...9")
        }
        return (images.values, labels.values.map { Int32($0) })
      }
      let train = try split(.train)
      let test = try split(.test)
      try file.close()
      self.init(
        trainImages: train.images,
        trainLabels: train.labels,
        testImages: test.images,
        testLabels: test.labels
      )
      self.variant = variant
    } catch let error as HDF5Error {
      throw invalid("\(error)")
    }
  }
}
