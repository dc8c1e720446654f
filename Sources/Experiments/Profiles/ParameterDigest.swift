import Crypto
import Foundation
import PipelineCore

/// The digest of a fully resolved parameter set, quoted in reports so two reports can be
/// compared at a glance.
public enum ParameterDigest {
  /// SHA-256 (hex) of the canonical JSON encoding of `parameters`.
  public static func of(_ parameters: ExperimentParameters) -> String {
    let text = (try? CanonicalJSONEncoder().encode(parameters)) ?? ""
    return SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
  }
}
