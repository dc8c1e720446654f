import Foundation
import MNIST

/// Which dataset an experiment runs on: MNIST itself, or a dataset derived from the
/// preprocessed MNIST file by the `dataset` stage (same HDF5 layout, see ``DatasetStage``).
///
/// Spelled on the command line and in documents as `--set dataset=mnist` (the default) or
/// `dataset=digits:2,8` (only the listed digits, relabelled `0..<k` in the order given, class
/// names the digits: the paper's binary task of Figure 3).
public enum DatasetVariant: Sendable, Hashable, Codable, CustomStringConvertible {
  /// MNIST's ten digits, all 70,000 images.
  case mnist
  /// The images of the given digits (at least two, distinct, each 0-9), relabelled by position.
  case digits([Int])

  /// Parses `mnist` or `digits:d1,d2,...`.
  ///
  /// - Throws: ``ExperimentError/invalidParameterValue(key:value:expected:)`` naming the key
  ///   `dataset`, the value and what is allowed (a digit outside 0-9, a repeated digit, fewer
  ///   than two digits).
  public init(parsing text: String) throws(ExperimentError) {
    func invalid(_ expected: String) -> ExperimentError {
      .invalidParameterValue(key: "dataset", value: text, expected: expected)
    }
    if text == "mnist" {
      self = .mnist
      return
    }
    let prefix = "digits:"
    guard text.hasPrefix(prefix) else {
      throw invalid("mnist, or digits: followed by two or more distinct digits, e.g. digits:2,8")
    }
    let items = text.dropFirst(prefix.count).split(separator: ",", omittingEmptySubsequences: false)
    let labels = DatasetFacts.mnist.classNames
    var digits: [Int] = []
    for item in items {
      let name = item.trimmingCharacters(in: .whitespaces)
      guard let digit = labels.firstIndex(of: name) else {
        throw invalid("digits among \(labels.first!)...\(labels.last!); \"\(name)\" is not one")
      }
      guard !digits.contains(digit) else {
        throw invalid("distinct digits; \(digit) appears twice")
      }
      digits.append(digit)
    }
    guard digits.count >= 2 else { throw invalid("at least two digits, e.g. digits:2,8") }
    self = .digits(digits)
  }

  /// `mnist` or `digits:2,8`.
  public var description: String {
    switch self {
    case .mnist: "mnist"
    case .digits(let digits): "digits:" + digits.map(String.init).joined(separator: ",")
    }
  }

  /// The part of the dataset stage's id, e.g. `digits-2-8`.
  var idComponent: String {
    switch self {
    case .mnist: "mnist"
    case .digits(let digits): "digits-" + digits.map(String.init).joined(separator: "-")
    }
  }

  /// What a plan may know before any data is read: image shape and classes exactly; split
  /// sizes as upper bounds (MNIST's), since how many images a subset of digits holds is read
  /// from the derived file (``DatasetStage``), never written here.
  public var declaredFacts: DatasetFacts {
    var facts = DatasetFacts.mnist
    if case .digits(let digits) = self { facts.classNames = digits.map { facts.classNames[$0] } }
    return facts
  }

  /// Decodes from its command-line spelling.
  public init(from decoder: any Decoder) throws {
    let text = try decoder.singleValueContainer().decode(String.self)
    do { self = try DatasetVariant(parsing: text) } catch {
      throw DecodingError.dataCorrupted(
        .init(codingPath: decoder.codingPath, debugDescription: error.description)
      )
    }
  }

  /// Encodes as its command-line spelling.
  public func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    try container.encode(description)
  }
}
