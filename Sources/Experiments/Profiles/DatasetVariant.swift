#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif
import MNIST
import NeuralEngine

/// Which dataset a cell learns from: MNIST itself or a dataset derived from it.
///
/// Spelled as in `--set dataset=...` and in a document's `datasets:` key; the spelling is also
/// its Codable form (a string), so it enters cache keys as written. MNIST is the default and
/// enters no existing key.
/// - `mnist`: the preprocessed MNIST file.
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
  /// Each training image `copies` times with Gaussian pixel noise of std `noise`.
  case repeated(copies: Int, noise: Double)

  /// Parses `mnist` or `repeated:<copies>x<std>`; errors name the key `dataset`.
  public init(parsing text: String) throws(ExperimentError) {
    let expected = "mnist or repeated:<copies>x<noise std>, e.g. repeated:3x0.1"
    if text == "mnist" {
      self = .mnist
      return
    }
    let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
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

  /// The spelling it parses from.
  public var description: String {
    switch self {
    case .mnist: "mnist"
    case .repeated(let copies, let noise): "repeated:\(copies)x\(noise)"
    }
  }

  /// The spelling as a name in stage ids and cell ids (`repeated-3x0.1`).
  public var slug: String { description.replacingColons() }

  /// The name used in figures and tables.
  public var displayName: String {
    switch self {
    case .mnist: "MNIST"
    case .repeated(let copies, let noise): "Repeated MNIST (\(copies) copies, noise std \(noise))"
    }
  }

  /// The facts the derived file will have, declared before anything is computed (plans check
  /// their protocol against them); stages read the file's own.
  public func facts(of base: DatasetFacts) -> DatasetFacts {
    switch self {
    case .mnist: return base
    case .repeated(let copies, _):
      var facts = base
      facts.trainingCount *= copies
      return facts
    }
  }

  /// The derived dataset; the noise comes from `generator` (standard normals by Box-Muller,
  /// two per pair of 53-bit uniform draws, image by image and pixel by pixel in file order).
  public func derive(_ base: MNISTDataset, generator: inout SeededGenerator) -> MNISTDataset {
    switch self {
    case .mnist: return base
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

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    try container.encode(description)
  }
}

extension String {
  fileprivate func replacingColons() -> String {
    String(map { $0 == ":" ? "-" : $0 })
  }
}
