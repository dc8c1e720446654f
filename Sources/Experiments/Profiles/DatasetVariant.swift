import MNIST
import NeuralEngine

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Which dataset a cell learns from: MNIST itself or a dataset derived from it by the
/// `dataset-variant` stage (same HDF5 layout, see ``DatasetVariantStage``).
///
/// Spelled as in `--set dataset=...` and in a document's `datasets:` key; the spelling is also
/// its Codable form (a string), so it enters cache keys as written. MNIST is the default and
/// enters no existing key.
/// - `mnist`: the preprocessed MNIST file.
/// - `digits:<d1>,<d2>,...` (e.g. `digits:2,8`, the paper's binary task of Figure 3): only the
///   training and test images of the listed digits (at least two, distinct, each 0-9), in
///   MNIST's order, relabelled `0..<k` in the order given; the class names are the digits.
/// - `repeated:<copies>x<std>` (e.g. `repeated:3x0.1`): Repeated MNIST (Kirsch, van Amersfoort
///   & Gal 2019, §5.1): the *training split* (from which the validation set, the initial
///   labelled set and the pool are drawn) is the 60,000 training images repeated `copies` times,
///   copy after copy, each image with isotropic Gaussian noise of standard deviation `std` added
///   to every pixel (pixels in [0, 1], not clipped). The test split stays MNIST's 10,000. Kirsch
///   et al. add the noise of std 0.1 after standardising the pixels by MNIST's std 0.3081, so
///   their noise is `repeated:3x0.0308` on our [0, 1] scale; `repeated:3x0.1` (the issue's
///   spelling) is about three times stronger.
public enum DatasetVariant: Sendable, Hashable, Codable, CustomStringConvertible {
  /// MNIST as published.
  case mnist
  /// The images of the given digits, relabelled by their position in the list.
  case digits([Int])
  /// Each training image `copies` times with Gaussian pixel noise of std `noise`.
  case repeated(copies: Int, noise: Double)

  /// Parses `mnist`, `digits:d1,d2,...` or `repeated:<copies>x<std>`.
  ///
  /// - Throws: ``ExperimentError/invalidParameterValue(key:value:expected:)`` or
  ///   ``ExperimentError/parameterOutOfRange(key:value:range:)`` naming the key `dataset`, the
  ///   value and what is allowed (a digit outside 0-9, a repeated digit, fewer than two digits,
  ///   copies outside 1-10, a noise std outside 0-1).
  public init(parsing text: String) throws(ExperimentError) {
    let expected =
      "mnist, digits:<two or more distinct digits> (e.g. digits:2,8) or "
      + "repeated:<copies>x<noise std> (e.g. repeated:3x0.1)"
    if text == "mnist" {
      self = .mnist
      return
    }
    let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
    if parts.count == 2, parts[0] == "digits" {
      self = .digits(try Self.parseDigits(parts[1], text: text))
      return
    }
    guard parts.count == 2, parts[0] == "repeated" else {
      throw .invalidParameterValue(key: "dataset", value: text, expected: expected)
    }
    let numbers = parts[1].split(separator: "x", maxSplits: 1).map(String.init)
    guard numbers.count == 2, let copies = Int(numbers[0]), let noise = Double(numbers[1]),
      noise.isFinite
    else {
      throw .invalidParameterValue(key: "dataset", value: text, expected: expected)
    }
    guard (1...10).contains(copies), (0...1).contains(noise) else {
      throw .parameterOutOfRange(
        key: "dataset",
        value: text,
        range: "repeated:<1...10>x<0...1> (copies 1 to 10, noise std 0 to 1)"
      )
    }
    self = .repeated(copies: copies, noise: noise)
  }

  private static func parseDigits(_ list: String, text: String) throws(ExperimentError) -> [Int] {
    func invalid(_ expected: String) -> ExperimentError {
      .invalidParameterValue(key: "dataset", value: text, expected: expected)
    }
    let labels = DatasetFacts.mnist.classNames
    var digits: [Int] = []
    for item in list.split(separator: ",", omittingEmptySubsequences: false) {
      let name = String(item).trimmingWhitespace()
      guard let digit = labels.firstIndex(of: name) else {
        throw invalid("digits among \(labels.first!)...\(labels.last!); \"\(name)\" is not one")
      }
      guard !digits.contains(digit) else {
        throw invalid("distinct digits; \(digit) appears twice")
      }
      digits.append(digit)
    }
    guard digits.count >= 2 else { throw invalid("at least two digits, e.g. digits:2,8") }
    return digits
  }

  /// The spelling it parses from.
  public var description: String {
    switch self {
    case .mnist: "mnist"
    case .digits(let digits): "digits:" + digits.map(String.init).joined(separator: ",")
    case .repeated(let copies, let noise): "repeated:\(copies)x\(noise)"
    }
  }

  /// The spelling as a name in stage ids and cell ids (`repeated-3x0.1`, `digits-2-8`).
  public var slug: String { String(description.map { $0 == ":" || $0 == "," ? "-" : $0 }) }

  /// The name used in figures and tables.
  public var displayName: String {
    switch self {
    case .mnist: "MNIST"
    case .digits(let digits): "MNIST " + digits.map(String.init).joined(separator: " vs ")
    case .repeated(let copies, let noise): "Repeated MNIST (\(copies) copies, noise std \(noise))"
    }
  }

  /// The facts the derived file will have, declared before anything is computed (plans check
  /// their protocol against them); stages read the file's own. For a subset of the digits the
  /// image shape and classes are exact and the split sizes upper bounds (MNIST's): how many
  /// images the digits hold is read from the derived file, never written here.
  public func facts(of base: DatasetFacts) -> DatasetFacts {
    switch self {
    case .mnist: return base
    case .digits(let digits):
      var facts = base
      facts.classNames = digits.map { base.classNames[$0] }
      return facts
    case .repeated(let copies, _):
      var facts = base
      facts.trainingCount *= copies
      return facts
    }
  }

  /// The facts of the variant of MNIST (``facts(of:)`` of ``DatasetFacts/mnist``).
  public var declaredFacts: DatasetFacts { facts(of: .mnist) }

  /// The derived dataset. A subset of the digits draws nothing; the noise of Repeated MNIST
  /// comes from `generator` (standard normals by Box-Muller, two per pair of 53-bit uniform
  /// draws, image by image and pixel by pixel in file order).
  public func derive(_ base: MNISTDataset, generator: inout SeededGenerator) -> MNISTDataset {
    switch self {
    case .mnist: return base
    case .digits(let digits):
      let pixels = MNISTDataset.pixelsPerImage
      func keep(_ images: [Float], _ labels: [Int32]) -> ([Float], [Int32]) {
        var keptImages: [Float] = []
        var keptLabels: [Int32] = []
        for (index, label) in labels.enumerated() {
          guard let position = digits.firstIndex(of: Int(label)) else { continue }
          keptImages += images[(index * pixels)..<((index + 1) * pixels)]
          keptLabels.append(Int32(position))
        }
        return (keptImages, keptLabels)
      }
      let train = keep(base.trainImages, base.trainLabels)
      let test = keep(base.testImages, base.testLabels)
      return MNISTDataset(
        trainImages: train.0,
        trainLabels: train.1,
        testImages: test.0,
        testLabels: test.1,
        classNames: digits.map { base.classNames[$0] },
        variant: description
      )
    case .repeated(let copies, let noise):
      var images = [Float](repeating: 0, count: base.trainImages.count * copies)
      var index = 0
      var spare: Double?
      for _ in 0..<copies {
        for pixel in base.trainImages {
          let z: Double
          if let s = spare {
            z = s
            spare = nil
          } else {
            let u1 = (Double(generator.next() >> 11) + 1) * 0x1p-53  // (0, 1]
            let u2 = Double(generator.next() >> 11) * 0x1p-53
            let r = (-2 * log(u1)).squareRoot()
            z = r * cos(2 * .pi * u2)
            spare = r * sin(2 * .pi * u2)
          }
          images[index] = pixel + Float(noise * z)
          index += 1
        }
      }
      var derived = MNISTDataset(
        trainImages: images,
        trainLabels: Array((0..<copies).map { _ in base.trainLabels }.joined()),
        testImages: base.testImages,
        testLabels: base.testLabels
      )
      derived.variant = description
      return derived
    }
  }

  /// Decodes from its command-line spelling.
  public init(from decoder: any Decoder) throws {
    let text = try decoder.singleValueContainer().decode(String.self)
    do {
      self = try DatasetVariant(parsing: text)
    } catch {
      throw DecodingError.dataCorrupted(
        .init(codingPath: decoder.codingPath, debugDescription: "\(error)")
      )
    }
  }

  /// Encodes as its command-line spelling.
  public func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    try container.encode(description)
  }
}
