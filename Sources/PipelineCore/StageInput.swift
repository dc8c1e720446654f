import Foundation

/// Where one named input of a stage comes from.
///
/// Inputs enter the cache key by *content*, never by path: an upstream artifact contributes the
/// digest recorded in its manifest, an external file the SHA-256 of its bytes.
public enum StageInput: Hashable, Sendable {
  /// The artifact `name` produced by the upstream stage `stage`.
  case artifact(StageID, String)
  /// An external file (a download, a raw data file), hashed by content.
  case file(URL)

  /// The upstream stage this input depends on, if any.
  public var upstream: StageID? {
    switch self {
    case .artifact(let stage, _): stage
    case .file: nil
    }
  }
}
