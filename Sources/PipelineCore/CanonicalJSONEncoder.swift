/// Encodes `Encodable` values into the canonical text that cache keys are hashed from.
///
/// The text is JSON-like and byte-for-byte deterministic:
/// - object keys are sorted by their UTF-8 bytes, with no whitespace anywhere;
/// - integers are written in decimal; `Double` as `f64:` and `Float` as `f32:` followed by the
///   lower-case hex of their IEEE bit pattern, so `-0.0`, `0.0`, every NaN payload and values one
///   ulp apart all stay distinct and no float formatting rules are involved;
/// - strings are quoted, escaping only `"`, `\` and control characters (as `\u00XX`);
/// - `nil` optionals in keyed containers are left out, so adding an optional parameter whose
///   value is `nil` does not change existing keys.
///
/// `Set` and dictionaries with keys other than `String`/`Int` encode in hash order, which is not
/// stable; do not use them in stage parameters.
public struct CanonicalJSONEncoder: Sendable {
  /// Creates an encoder.
  public init() {}

  /// The canonical text of `value`.
  public func encode<T: Encodable>(_ value: T) throws -> String {
    try encodeValue(value).canonicalText
  }

  /// The canonical value tree of `value`.
  func encodeValue<T: Encodable>(_ value: T) throws -> CanonicalValue {
    let root = CanonicalNode()
    try root.store(value, codingPath: [])
    return root.resolved
  }

  /// `text` with every `f64:`/`f32:` bit-pattern token outside string literals followed by the
  /// number it stands for, for messages (`f64:3ff0000000000000` becomes
  /// `f64:3ff0000000000000 (1.0)`).
  public static func readable(_ text: String) -> String {
    var result = ""
    var inString = false
    var escaped = false
    var index = text.startIndex
    while index < text.endIndex {
      let character = text[index]
      if inString {
        result.append(character)
        if escaped {
          escaped = false
        } else if character == "\\" {
          escaped = true
        } else if character == "\"" {
          inString = false
        }
        index = text.index(after: index)
        continue
      }
      if character == "\"" { inString = true }
      let rest = text[index...]
      if let (token, value) = Self.floatToken(at: rest) {
        result += "\(token) (\(value))"
        index = text.index(index, offsetBy: token.count)
        continue
      }
      result.append(character)
      index = text.index(after: index)
    }
    return result
  }

  private static func floatToken(at text: Substring) -> (String, String)? {
    for (prefix, digits) in [("f64:", 16), ("f32:", 8)] where text.hasPrefix(prefix) {
      let hex = text.dropFirst(prefix.count).prefix(digits)
      guard hex.count == digits, let bits = UInt64(hex, radix: 16) else { return nil }
      let value =
        digits == 16
        ? Double(bitPattern: bits).description
        : Float(bitPattern: UInt32(bits)).description
      return (prefix + hex, value)
    }
    return nil
  }
}

// MARK: - Canonical values

/// A value in canonical form: what the canonical text is printed from.
indirect enum CanonicalValue: Hashable, Sendable {
  case null
  case bool(Bool)
  /// An integer as decimal text (any width, signed or not).
  case integer(String)
  case float32(bitPattern: UInt32)
  case float64(bitPattern: UInt64)
  case string(String)
  case array([CanonicalValue])
  case object([String: CanonicalValue])
  /// Canonical text produced earlier (for example stored parameter texts), inserted as is.
  case verbatim(String)

  /// The canonical text; see ``CanonicalJSONEncoder``.
  var canonicalText: String {
    var output = ""
    write(to: &output)
    return output
  }

  private func write(to output: inout String) {
    switch self {
    case .null: output += "null"
    case .bool(let value): output += value ? "true" : "false"
    case .integer(let digits): output += digits
    case .float32(let bits): output += "f32:" + Self.hex(UInt64(bits), digits: 8)
    case .float64(let bits): output += "f64:" + Self.hex(bits, digits: 16)
    case .string(let value): Self.writeQuoted(value, to: &output)
    case .verbatim(let text): output += text
    case .array(let elements):
      output += "["
      for (index, element) in elements.enumerated() {
        if index > 0 { output += "," }
        element.write(to: &output)
      }
      output += "]"
    case .object(let members):
      output += "{"
      let sortedKeys = members.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
      for (index, key) in sortedKeys.enumerated() {
        if index > 0 { output += "," }
        Self.writeQuoted(key, to: &output)
        output += ":"
        members[key]!.write(to: &output)
      }
      output += "}"
    }
  }

  private static func hex(_ value: UInt64, digits: Int) -> String {
    let text = String(value, radix: 16)
    return String(repeating: "0", count: digits - text.count) + text
  }

  private static func writeQuoted(_ text: String, to output: inout String) {
    output += "\""
    for scalar in text.unicodeScalars {
      switch scalar {
      case "\"": output += "\\\""
      case "\\": output += "\\\\"
      case _ where scalar.value < 0x20 || scalar.value == 0x7F:
        output += "\\u" + hex(UInt64(scalar.value), digits: 4)
      default: output.unicodeScalars.append(scalar)
      }
    }
    output += "\""
  }
}

// MARK: - Encoder machinery

/// A mutable tree node that `Encoder` containers write into (containers are values that must
/// share their parent, hence a class; it never escapes one `encode` call).
private final class CanonicalNode {
  enum Content {
    case empty
    case leaf(CanonicalValue)
    case array([CanonicalNode])
    case object([String: CanonicalNode])
  }

  var content: Content = .empty

  var resolved: CanonicalValue {
    switch content {
    case .empty: .object([:])  // a type that encoded nothing, like an empty struct
    case .leaf(let value): value
    case .array(let nodes): .array(nodes.map(\.resolved))
    case .object(let nodes): .object(nodes.mapValues(\.resolved))
    }
  }

  func child(forKey key: String) -> CanonicalNode {
    let node = CanonicalNode()
    if case .object(var members) = content {
      members[key] = node
      content = .object(members)
    } else {
      content = .object([key: node])
    }
    return node
  }

  func appendChild() -> CanonicalNode {
    let node = CanonicalNode()
    if case .array(var elements) = content {
      elements.append(node)
      content = .array(elements)
    } else {
      content = .array([node])
    }
    return node
  }

  func store<T: Encodable>(_ value: T, codingPath: [any CodingKey]) throws {
    switch value {
    case let value as Double: content = .leaf(.float64(bitPattern: value.bitPattern))
    case let value as Float: content = .leaf(.float32(bitPattern: value.bitPattern))
    case let value as String: content = .leaf(.string(value))
    case let value as Bool: content = .leaf(.bool(value))
    case let value as any BinaryInteger: content = .leaf(.integer(String(value)))
    default: try value.encode(to: CanonicalTreeEncoder(node: self, codingPath: codingPath))
    }
  }
}

private struct CanonicalTreeEncoder: Encoder {
  let node: CanonicalNode
  let codingPath: [any CodingKey]
  var userInfo: [CodingUserInfoKey: Any] { [:] }

  func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
    if case .object = node.content {} else { node.content = .object([:]) }
    return KeyedEncodingContainer(KeyedContainer<Key>(node: node, codingPath: codingPath))
  }

  func unkeyedContainer() -> any UnkeyedEncodingContainer {
    if case .array = node.content {} else { node.content = .array([]) }
    return UnkeyedContainer(node: node, codingPath: codingPath)
  }

  func singleValueContainer() -> any SingleValueEncodingContainer {
    SingleValueContainer(node: node, codingPath: codingPath)
  }
}

private struct KeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
  let node: CanonicalNode
  let codingPath: [any CodingKey]

  mutating func encodeNil(forKey key: Key) throws {
    node.child(forKey: key.stringValue).content = .leaf(.null)
  }

  mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
    try node.child(forKey: key.stringValue).store(value, codingPath: codingPath + [key])
  }

  mutating func nestedContainer<NestedKey: CodingKey>(
    keyedBy keyType: NestedKey.Type,
    forKey key: Key
  ) -> KeyedEncodingContainer<NestedKey> {
    CanonicalTreeEncoder(node: node.child(forKey: key.stringValue), codingPath: codingPath + [key])
      .container(keyedBy: keyType)
  }

  mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
    CanonicalTreeEncoder(node: node.child(forKey: key.stringValue), codingPath: codingPath + [key])
      .unkeyedContainer()
  }

  mutating func superEncoder() -> any Encoder {
    CanonicalTreeEncoder(node: node.child(forKey: "super"), codingPath: codingPath)
  }

  mutating func superEncoder(forKey key: Key) -> any Encoder {
    CanonicalTreeEncoder(node: node.child(forKey: key.stringValue), codingPath: codingPath + [key])
  }
}

private struct UnkeyedContainer: UnkeyedEncodingContainer {
  let node: CanonicalNode
  let codingPath: [any CodingKey]

  var count: Int {
    if case .array(let elements) = node.content { return elements.count }
    return 0
  }

  mutating func encodeNil() throws { node.appendChild().content = .leaf(.null) }

  mutating func encode<T: Encodable>(_ value: T) throws {
    try node.appendChild().store(value, codingPath: codingPath)
  }

  mutating func nestedContainer<NestedKey: CodingKey>(
    keyedBy keyType: NestedKey.Type
  ) -> KeyedEncodingContainer<NestedKey> {
    CanonicalTreeEncoder(node: node.appendChild(), codingPath: codingPath)
      .container(keyedBy: keyType)
  }

  mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
    CanonicalTreeEncoder(node: node.appendChild(), codingPath: codingPath).unkeyedContainer()
  }

  mutating func superEncoder() -> any Encoder {
    CanonicalTreeEncoder(node: node.appendChild(), codingPath: codingPath)
  }
}

private struct SingleValueContainer: SingleValueEncodingContainer {
  let node: CanonicalNode
  let codingPath: [any CodingKey]

  mutating func encodeNil() throws { node.content = .leaf(.null) }

  mutating func encode<T: Encodable>(_ value: T) throws {
    try node.store(value, codingPath: codingPath)
  }
}
