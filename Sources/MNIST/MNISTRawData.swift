import Foundation

// MARK: - Raw data

/// The images and labels of one split as published: unsigned pixel bytes and labels.
public struct MNISTRawSplit: Sendable, Equatable {
  /// `count × 28 × 28` pixel intensities in 0...255, in C order.
  public var pixels: [UInt8]
  /// `count` labels in 0...9.
  public var labels: [UInt8]

  /// The number of examples.
  public var count: Int { labels.count }

  /// Creates a split, checking that there is one 28 × 28 image per label.
  public init(pixels: [UInt8], labels: [UInt8]) {
    let side = MNISTIDX.imageSide
    precondition(
      pixels.count == labels.count * side * side,
      "MNISTRawSplit: \(pixels.count) pixels for \(labels.count) labels"
    )
    self.pixels = pixels
    self.labels = labels
  }
}

/// All of MNIST as published: the training and test splits, unscaled.
public struct MNISTRawData: Sendable, Equatable {
  /// The 60,000 training examples.
  public var train: MNISTRawSplit
  /// The 10,000 test examples.
  public var test: MNISTRawSplit

  /// Creates the data set from its two splits.
  public init(train: MNISTRawSplit, test: MNISTRawSplit) {
    self.train = train
    self.test = test
  }

  /// Parses the four decompressed idx files in `directory` (as left there by
  /// ``MNISTDownloader/download(into:)``), validating every header, count and label.
  public init(directory: URL) throws {
    func split(_ split: MNISTSplit) throws -> MNISTRawSplit {
      let files = MNISTFile.files(of: split)
      let imagesPath = directory.appendingPathComponent(files.images.name).path
      let labelsPath = directory.appendingPathComponent(files.labels.name).path
      let pixels = try MNISTIDX.parseImages(
        try FileIO.read(imagesPath),
        file: imagesPath,
        expectedCount: files.images.itemCount
      )
      let labels = try MNISTIDX.parseLabels(
        try FileIO.read(labelsPath),
        file: labelsPath,
        expectedCount: files.labels.itemCount
      )
      let side = MNISTIDX.imageSide
      guard pixels.count == labels.count * side * side else {
        throw MNISTError.countMismatch(
          images: imagesPath,
          labels: labelsPath,
          imageCount: pixels.count / (side * side),
          labelCount: labels.count
        )
      }
      return MNISTRawSplit(pixels: pixels, labels: labels)
    }
    self.init(train: try split(.train), test: try split(.test))
  }

  /// The split named `split`.
  public subscript(split: MNISTSplit) -> MNISTRawSplit {
    split == .train ? train : test
  }
}
