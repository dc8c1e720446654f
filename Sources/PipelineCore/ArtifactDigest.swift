import Crypto
import Foundation
import HDF5Store

/// The logical content digest of an HDF5 artifact: what the file holds, not how its bytes are
/// laid out (compression, chunking, allocation order and library version do not matter).
///
/// Each dataset, in sorted path order, contributes its path, element type, shape, little-endian
/// C-order element bytes (or UTF-8 text, for string datasets) and its attributes; the root
/// group's attributes come first. Every field is length-prefixed, so no two different contents
/// share an encoding. Attributes of intermediate groups are not covered.
public struct ArtifactDigest: Hashable, Sendable {
  /// The SHA-256 (hex) of the whole artifact's logical content.
  public var sha256: String
  /// The SHA-256 (hex) of each dataset (content and attributes), by path; `"/"` holds the root
  /// group's attributes. Used to say *which* datasets differ.
  public var parts: [String: String]

  /// Computes the digest of the HDF5 file at `url`.
  ///
  /// - Throws: ``PipelineError/corruptArtifact(path:reason:)`` if the file cannot be read as
  ///   HDF5 (truncated, overwritten, missing).
  public init(ofFileAt url: URL) throws {
    do {
      let file = try HDF5File.open(url.path, mode: .readOnly)
      defer { try? file.close() }
      var parts: [String: String] = ["/": try Self.attributesDigest(of: "/", in: file)]
      for path in try file.datasetPaths() {
        parts[path] = try Self.datasetDigest(path, in: file)
      }
      var whole = FramedHasher(domain: "dbal.artifact.v1")
      whole.append(parts["/"]!)
      for path in parts.keys.sorted() where path != "/" {
        whole.append(path)
        whole.append(parts[path]!)
      }
      self.sha256 = whole.finalize()
      self.parts = parts
    } catch let error as PipelineError {
      throw error
    } catch {
      throw PipelineError.corruptArtifact(path: url.path, reason: "\(error)")
    }
  }

  /// The paths (`"/"` for root attributes) whose content differs between two digests, including
  /// datasets present in only one of them, sorted.
  public func differingParts(comparedWith other: ArtifactDigest) -> [String] {
    Set(parts.keys).union(other.parts.keys).filter { parts[$0] != other.parts[$0] }.sorted()
  }

  // MARK: - Encoding

  private static func datasetDigest(_ path: String, in file: HDF5File) throws -> String {
    var hasher = FramedHasher(domain: "dbal.dataset.v1")
    hasher.append(path)
    if let info = try? file.info(path) {
      hasher.append(info.elementType.rawValue)
      hasher.append(UInt64(info.shape.count))
      for extent in info.shape { hasher.append(UInt64(extent)) }
      hasher.append(bytes: try file.readRawBytes(path))
    } else {
      hasher.append("string")
      hasher.append(try file.readString(path))
    }
    hasher.append(try attributesDigest(of: path, in: file))
    return hasher.finalize()
  }

  private static func attributesDigest(of object: String, in file: HDF5File) throws -> String {
    var hasher = FramedHasher(domain: "dbal.attributes.v1")
    for name in try file.attributeNames(on: object) {
      hasher.append(name)
      switch try file.attribute(name, on: object) {
      case .string(let text):
        hasher.append("string")
        hasher.append(text)
      case .int(let value):
        hasher.append("int")
        hasher.append(UInt64(bitPattern: value))
      case .double(let value):
        hasher.append("double")
        hasher.append(value.bitPattern)
      case .ints(let values):
        hasher.append("ints")
        hasher.append(UInt64(values.count))
        for value in values { hasher.append(UInt64(bitPattern: value)) }
      case .doubles(let values):
        hasher.append("doubles")
        hasher.append(UInt64(values.count))
        for value in values { hasher.append(value.bitPattern) }
      }
    }
    return hasher.finalize()
  }
}

// MARK: - Hashing helpers

/// SHA-256 over length-prefixed fields, so that field boundaries are part of what is hashed.
struct FramedHasher {
  private var hasher = SHA256()

  init(domain: String) { append(domain) }

  mutating func append(_ text: String) { append(bytes: Array(text.utf8)) }

  mutating func append(bytes: [UInt8]) {
    append(UInt64(bytes.count))
    hasher.update(data: bytes)
  }

  mutating func append(_ value: UInt64) {
    withUnsafeBytes(of: value.littleEndian) { hasher.update(bufferPointer: $0) }
  }

  func finalize() -> String { hasher.finalize().hexString }
}

/// The SHA-256 (hex) of a file's bytes, read in 1 MiB chunks.
func fileContentDigest(_ url: URL) throws -> String {
  let handle = try FileHandle(forReadingFrom: url)
  defer { try? handle.close() }
  var hasher = SHA256()
  while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
    hasher.update(data: chunk)
  }
  return hasher.finalize().hexString
}
