import Crypto
import Foundation

/// Everything that goes into a stage's cache key, kept as data so that `status` can explain a
/// rerun component by component.
///
/// The key is the SHA-256 of ``canonicalText``: the canonical encoding (see
/// ``CanonicalJSONEncoder``) of the key-schema version, the stage kind and version, each semantic
/// parameter, the content digest of each input (sorted by input name) and the seed. Paths,
/// settings, thread and job counts, and timestamps never enter it.
public struct KeyMaterial: Codable, Hashable, Sendable {
  /// The version of these hashing rules; bumping it deliberately invalidates every key.
  public static let currentSchemaVersion = 1

  /// The key-schema version the material was built with.
  public var schemaVersion: Int
  /// The stage kind, such as `"train"`.
  public var kind: String
  /// The stage's logic version.
  public var version: Int
  /// Each top-level parameter by name, as canonical text.
  public var parameters: [String: String]
  /// The SHA-256 (hex) of each input's content, by input name.
  public var inputs: [String: String]
  /// The stage's seed.
  public var seed: UInt64?

  /// Creates key material from its components.
  public init(
    schemaVersion: Int = KeyMaterial.currentSchemaVersion,
    kind: String,
    version: Int,
    parameters: [String: String],
    inputs: [String: String],
    seed: UInt64?
  ) {
    self.schemaVersion = schemaVersion
    self.kind = kind
    self.version = version
    self.parameters = parameters
    self.inputs = inputs
    self.seed = seed
  }

  /// Builds the key material of `stage` given its input digests and seed.
  ///
  /// - Throws: ``PipelineError/invalidParameters(kind:reason:)`` if the parameters do not encode
  ///   as a keyed container.
  public init<S: Stage>(stage: S, inputDigests: [String: String], seed: UInt64?) throws {
    let encoded: CanonicalValue
    do {
      encoded = try CanonicalJSONEncoder().encodeValue(stage.parameters)
    } catch {
      throw PipelineError.invalidParameters(kind: S.kind, reason: "\(error)")
    }
    guard case .object(let members) = encoded else {
      throw PipelineError.invalidParameters(
        kind: S.kind,
        reason: "they encode as \(encoded.canonicalText), not as a keyed container; "
          + "wrap them in a struct"
      )
    }
    self.init(
      kind: S.kind,
      version: S.version,
      parameters: members.mapValues(\.canonicalText),
      inputs: inputDigests,
      seed: seed
    )
  }

  /// The canonical text the key is hashed from.
  public var canonicalText: String {
    CanonicalValue.object([
      "schema": .integer(String(schemaVersion)),
      "kind": .string(kind),
      "version": .integer(String(version)),
      "parameters": .object(parameters.mapValues { .verbatim($0) }),
      "inputs": .object(inputs.mapValues { .string($0) }),
      "seed": seed.map { .integer(String($0)) } ?? .null,
    ]).canonicalText
  }

  /// The cache key: lower-case hex SHA-256 of ``canonicalText``.
  public var key: String {
    SHA256.hash(data: Data(canonicalText.utf8)).hexString
  }

  /// The components that differ from `previous`, in a stable order (schema, kind, version,
  /// parameters, inputs, seed).
  ///
  /// - Parameter includingInputs: whether to compare input digests; `status` leaves them out for
  ///   stages whose upstream outputs do not exist yet.
  public func changes(from previous: KeyMaterial, includingInputs: Bool = true) -> [KeyChange] {
    var changes: [KeyChange] = []
    func compare(_ component: String, _ old: String?, _ new: String?) {
      if old != new { changes.append(KeyChange(component: component, old: old, new: new)) }
    }
    compare("schema", String(previous.schemaVersion), String(schemaVersion))
    compare("kind", previous.kind, kind)
    compare("version", String(previous.version), String(version))
    for name in Set(parameters.keys).union(previous.parameters.keys).sorted() {
      compare("parameters.\(name)", previous.parameters[name], parameters[name])
    }
    if includingInputs {
      for name in Set(inputs.keys).union(previous.inputs.keys).sorted() {
        compare("inputs.\(name)", previous.inputs[name], inputs[name])
      }
    }
    compare("seed", previous.seed.map(String.init), seed.map(String.init))
    return changes
  }
}

/// One component of a cache key that changed since the last recorded run.
public struct KeyChange: Codable, Hashable, Sendable, CustomStringConvertible {
  /// The component: `schema`, `kind`, `version`, `parameters.<name>`, `inputs.<name>` or `seed`.
  public var component: String
  /// The value in the last recorded run (canonical text), or nil if the component was absent.
  public var old: String?
  /// The current value (canonical text), or nil if the component is now absent.
  public var new: String?

  /// Creates a change record.
  public init(component: String, old: String?, new: String?) {
    self.component = component
    self.old = old
    self.new = new
  }

  /// For example `parameters.learningRate: f64:3f50624dd2f1a9fc (0.001) -> f64:... (0.002)`.
  public var description: String {
    func show(_ value: String?) -> String {
      value.map(CanonicalJSONEncoder.readable) ?? "(absent)"
    }
    return "\(component): \(show(old)) -> \(show(new))"
  }
}

// MARK: - Hex

extension Sequence<UInt8> {
  /// Lower-case hexadecimal text of the bytes.
  var hexString: String {
    let digits = Array("0123456789abcdef".utf8)
    var characters: [UInt8] = []
    for byte in self {
      characters.append(digits[Int(byte >> 4)])
      characters.append(digits[Int(byte & 0x0F)])
    }
    return String(decoding: characters, as: UTF8.self)
  }
}
