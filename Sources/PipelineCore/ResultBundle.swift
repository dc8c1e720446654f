import Foundation
import HDF5Store

/// A portable set of cache entries in one compressed HDF5 file: what `pipeline export` writes
/// and `pipeline import` reads, so results computed on one machine can be rendered, continued
/// and verified on another (Bazel's "build without the bytes", DVC's push and pull).
///
/// Layout (readable with h5py and h5dump), two datasets however many entries, because every
/// HDF5 dataset costs a few KiB of metadata and a finished cell has about 400 entries:
///
///     /                 attributes: format = "dbal-result-bundle", format_version = 2, and the
///                       exporter's metadata (target, profile, cell, ...)
///     /index            UTF-8 JSON as uint8 [n], deflate 9: an array of
///                       {"manifest": {...}, "artifacts": {"<name>": [offset, length]}}
///     /artifact_bytes   uint8 [m], deflate 9: the carried artifact files, back to back
///
/// In Python: `json.loads(f["index"][()].tobytes())`, and an artifact's file is
/// `f["artifact_bytes"][offset:offset + length].tobytes()`.
///
/// An artifact listed in the manifest but absent from `artifacts/` is carried *pruned*: its
/// digest travels, its bytes do not (models and pool scores by default), and the receiving
/// runner recomputes and verifies it when a stage needs it.
public struct ResultBundle: Sendable {
  /// The format name stored in every bundle.
  public static let format = "dbal-result-bundle"
  /// The layout version.
  public static let formatVersion: Int64 = 2
  /// What to do about a damaged or truncated bundle, for error messages.
  public static let fix = "copy it again, or re-export it with `pipeline export`"

  /// One cache entry: its manifest and the bytes of the artifacts it carries.
  public struct Entry: Sendable {
    /// The entry's manifest, as committed where it was exported.
    public var manifest: StageManifest
    /// Artifact name -> the artifact file's bytes.
    public var artifacts: [String: [UInt8]]

    /// Creates an entry.
    public init(manifest: StageManifest, artifacts: [String: [UInt8]]) {
      self.manifest = manifest
      self.artifacts = artifacts
    }
  }

  /// Free-form facts about the bundle (target, profile, cell, code version, ...).
  public var metadata: [String: String]
  /// The entries, in key order.
  public var entries: [Entry]

  /// Creates a bundle.
  public init(metadata: [String: String], entries: [Entry]) {
    self.metadata = metadata
    self.entries = entries.sorted { $0.manifest.key < $1.manifest.key }
  }

  /// Writes the bundle to `url` through a temporary file and a rename, so a reader never sees
  /// half a bundle and an existing file is replaced only by a complete one.
  public func write(to url: URL) throws {
    let directory = url.deletingLastPathComponent()
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let temporary = directory.appendingPathComponent(
      ".\(url.lastPathComponent).\(SystemCalls.processID).tmp"
    )
    try? FileManager.default.removeItem(at: temporary)
    do {
      let file = try HDF5File.create(temporary.path)
      try file.setAttribute("format", .string(Self.format))
      try file.setAttribute("format_version", .int(Self.formatVersion))
      for (name, value) in metadata.sorted(by: { $0.key < $1.key }) {
        try file.setAttribute(name, .string(value))
      }
      var index: [IndexEntry] = []
      var blob: [UInt8] = []
      for entry in entries {
        var locations: [String: [Int]] = [:]
        for (name, bytes) in entry.artifacts.sorted(by: { $0.key < $1.key }) {
          locations[name] = [blob.count, bytes.count]
          blob += bytes
        }
        index.append(IndexEntry(manifest: entry.manifest, artifacts: locations))
      }
      let json = [UInt8](try PipelineJSON.encoder().encode(index))
      try file.write(json, shape: [json.count], to: "/index", compression: .deflate(level: 9))
      try file.write(
        blob,
        shape: [blob.count],
        to: "/artifact_bytes",
        compression: .deflate(level: 9)
      )
      try file.close()
      try SystemCalls.synchronize(temporary)
      try SystemCalls.rename(temporary, to: url)
    } catch {
      try? FileManager.default.removeItem(at: temporary)
      throw error
    }
  }

  /// Reads a bundle, checking its format; every problem names the file and what to do.
  public init(contentsOf url: URL) throws {
    func invalid(_ problem: String) -> PipelineError {
      .invalidBundle(path: url.path, problem: problem)
    }
    let file: HDF5File
    do {
      file = try HDF5File.open(url.path)
    } catch {
      throw invalid(Self.unreadable(error))
    }
    defer { try? file.close() }
    guard case .string(let format)? = try? file.attribute("format"), format == Self.format else {
      throw invalid("it has no 'format = \(Self.format)' attribute: not a result bundle")
    }
    guard case .int(let version)? = try? file.attribute("format_version"),
      version == Self.formatVersion
    else {
      throw invalid(
        "its format version is not \(Self.formatVersion); re-export it with `pipeline export`"
      )
    }
    var metadata: [String: String] = [:]
    for name in try file.attributeNames() where name != "format" && name != "format_version" {
      if case .string(let value) = try file.attribute(name) { metadata[name] = value }
    }
    let index: [IndexEntry]
    let blob: [UInt8]
    do {
      let json = try file.read("/index", as: UInt8.self).values
      index = try PipelineJSON.decoder().decode([IndexEntry].self, from: Data(json))
      blob = try file.read("/artifact_bytes", as: UInt8.self).values
    } catch {
      throw invalid("its index or artifact bytes cannot be read (\(error)); \(Self.fix)")
    }
    var entries: [Entry] = []
    for item in index {
      var artifacts: [String: [UInt8]] = [:]
      for (name, location) in item.artifacts {
        guard location.count == 2, location[0] >= 0, location[1] >= 0,
          location[0] + location[1] <= blob.count
        else {
          throw invalid(
            "entry \(item.manifest.key.prefix(12)): artifact \"\(name)\" lies outside the "
              + "artifact bytes (damaged); \(Self.fix)"
          )
        }
        artifacts[name] = Array(blob[location[0]..<(location[0] + location[1])])
      }
      entries.append(Entry(manifest: item.manifest, artifacts: artifacts))
    }
    self.init(metadata: metadata, entries: entries)
  }

  /// Why a bundle file does not open, in one clause with the fix: not HDF5 at all, cut short
  /// (HDF5's "truncated file: eof = 8000, ..., stored_eof = 506261"), or otherwise damaged.
  static func unreadable(_ error: any Error) -> String {
    switch error {
    case HDF5Error.fileNotFound:
      return "it does not exist"
    case HDF5Error.notHDF5:
      return "it is not an HDF5 file, so not a result bundle (the .h5 files `pipeline export` "
        + "writes); \(fix)"
    case HDF5Error.libraryError(_, _, _, let message) where message.contains("truncated"):
      if let actual = message.firstMatch(of: #/\beof = ([0-9]+)/#)?.1,
        let stored = message.firstMatch(of: #/stored_eof = ([0-9]+)/#)?.1
      {
        return "it is truncated: \(actual) of its \(stored) bytes are there; \(fix)"
      }
      return "it is truncated (\(message)); \(fix)"
    default:
      return "HDF5 cannot open it (\(error)); it is damaged: \(fix)"
    }
  }

  /// One entry of `/index`.
  struct IndexEntry: Codable {
    var manifest: StageManifest
    /// Artifact name -> [offset, length] in `/artifact_bytes`.
    var artifacts: [String: [Int]]
  }
}
