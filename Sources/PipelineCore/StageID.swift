/// The stable, human-readable identity of one stage instance in a pipeline graph.
///
/// A stage id is a slash-separated path such as `"cells/bald.bayesian.r0/round-003/train"`. It
/// names *where* a stage sits in an experiment; it never enters a cache key, so renaming a stage
/// does not invalidate its cached result.
public struct StageID: RawRepresentable, Hashable, Comparable, Sendable, Codable,
  ExpressibleByStringLiteral, CustomStringConvertible
{
  /// The path string, for example `"cells/bald.bayesian.r0/round-003/train"`.
  public let rawValue: String

  /// Creates a stage id from a slash-separated path.
  ///
  /// - Precondition: `rawValue` is non-empty, has no empty, `.` or `..` components, and contains
  ///   no whitespace or control characters (ids appear in file names and log lines).
  public init(_ rawValue: String) {
    precondition(Self.isValid(rawValue), "invalid stage id \"\(rawValue)\"")
    self.rawValue = rawValue
  }

  /// Creates a stage id from a slash-separated path; see ``init(_:)``.
  public init(rawValue: String) { self.init(rawValue) }

  /// Creates a stage id from a string literal; see ``init(_:)``.
  public init(stringLiteral value: String) { self.init(value) }

  /// Decodes a stage id stored as a plain string.
  public init(from decoder: any Decoder) throws {
    let container = try decoder.singleValueContainer()
    let text = try container.decode(String.self)
    guard Self.isValid(text) else {
      throw DecodingError.dataCorruptedError(
        in: container,
        debugDescription: "invalid stage id \"\(text)\""
      )
    }
    self.rawValue = text
  }

  /// Encodes the stage id as a plain string.
  public func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    try container.encode(rawValue)
  }

  /// The path string.
  public var description: String { rawValue }

  /// Orders ids by their path string, for stable listings.
  public static func < (lhs: StageID, rhs: StageID) -> Bool { lhs.rawValue < rhs.rawValue }

  /// Whether `text` is a well-formed stage id path.
  static func isValid(_ text: String) -> Bool {
    guard !text.isEmpty else { return false }
    let components = text.split(separator: "/", omittingEmptySubsequences: false)
    guard components.allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." }) else { return false }
    return !text.unicodeScalars.contains {
      $0.properties.isWhitespace || $0.value < 0x20 || $0.value == 0x7F
    }
  }
}

// MARK: - Dictionary keys

extension StageID: CodingKeyRepresentable {
  /// The id as a coding key, so `[StageID: T]` encodes as a JSON object.
  public var codingKey: any CodingKey { StageIDCodingKey(stringValue: rawValue) }

  /// Creates an id from a coding key; nil if the key is not a valid id.
  public init?<T: CodingKey>(codingKey: T) {
    guard Self.isValid(codingKey.stringValue) else { return nil }
    self.rawValue = codingKey.stringValue
  }
}

private struct StageIDCodingKey: CodingKey {
  var stringValue: String
  var intValue: Int? { nil }
  init(stringValue: String) { self.stringValue = stringValue }
  init?(intValue: Int) { nil }
}
