/// What the rest of the system may know about a dataset: its image shape, classes and split
/// sizes. Stages read them from the preprocessed file (``MNISTDataset/facts``, the shapes of its
/// datasets); plans, checked before anything is downloaded, use the declared ``mnist``. Outside
/// this module no size of MNIST is written as a literal.
public struct DatasetFacts: Sendable, Hashable, Codable {
  /// Channels, height and width of one image.
  public var imageShape: [Int]
  /// The name of each class, by label.
  public var classNames: [String]
  /// Images in the training split (the pool, validation and labelled sets are drawn from it).
  public var trainingCount: Int
  /// Images in the test split.
  public var testCount: Int

  /// Creates facts from their values.
  public init(imageShape: [Int], classNames: [String], trainingCount: Int, testCount: Int) {
    self.imageShape = imageShape
    self.classNames = classNames
    self.trainingCount = trainingCount
    self.testCount = testCount
  }

  /// The number of classes.
  public var classCount: Int { classNames.count }
  /// Values per image (channels x height x width).
  public var pixelCount: Int { imageShape.reduce(1, *) }
  /// The side of a square image.
  public var imageSide: Int { imageShape.last ?? 0 }

  /// MNIST as LeCun et al. publish it: 28 x 28 grey images of the digits 0-9, 60,000 for
  /// training and 10,000 for testing.
  public static let mnist = DatasetFacts(
    imageShape: [1] + MNISTDataset.imageShape,
    classNames: MNISTDataset.digitNames,
    trainingCount: MNISTFile.files(of: .train).labels.itemCount,
    testCount: MNISTFile.files(of: .test).labels.itemCount
  )
}

extension MNISTDataset {
  /// The facts of this dataset as loaded: image shape and split sizes from its arrays, the
  /// classes from the file (MNIST's digits unless it is a derived dataset; the loader checks
  /// every label lies among them).
  public var facts: DatasetFacts {
    DatasetFacts(
      imageShape: [1] + Self.imageShape,
      classNames: classNames,
      trainingCount: trainCount,
      testCount: testCount
    )
  }
}
