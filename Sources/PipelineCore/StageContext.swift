import Foundation

/// Everything a running stage may see of the world: its inputs, where to write its outputs,
/// its seed, non-semantic settings, cancellation and a channel to the observer.
public struct StageContext: Sendable {
  /// The id of the running stage.
  public let id: StageID
  /// The stage's seed, as declared on its node.
  public let seed: UInt64?
  /// Non-semantic settings from the runner (for example a mirror directory); they never enter
  /// a cache key, so they must not change what the stage produces.
  public let settings: [String: String]

  let inputs: [String: URL]
  let outputDirectory: URL
  let declaredOutputs: [String]
  let cancellation: CancellationFlag
  let observer: any PipelineObserver

  /// Whether the run was cancelled; long stages should check it and throw `CancellationError`.
  public var isCancelled: Bool { cancellation.isCancelled }

  /// Throws `CancellationError` if the run was cancelled.
  public func checkCancellation() throws {
    if isCancelled { throw CancellationError() }
  }

  /// The location of the input `name`: a verified upstream artifact or an external file.
  ///
  /// - Throws: ``PipelineError/unknownInput(stage:name:declared:)`` if the node declares no
  ///   input of that name.
  public func inputURL(_ name: String) throws -> URL {
    guard let url = inputs[name] else {
      throw PipelineError.unknownInput(stage: id, name: name, declared: inputs.keys.sorted())
    }
    return url
  }

  /// Where to write the artifact `artifact` (an HDF5 file inside the stage's temporary
  /// directory; the engine commits it after the stage returns).
  ///
  /// - Precondition: `artifact` is one of the stage's declared outputs.
  public func outputURL(_ artifact: String) -> URL {
    precondition(
      declaredOutputs.contains(artifact),
      "stage \(id) writes undeclared output \"\(artifact)\"; declared: \(declaredOutputs)"
    )
    return outputDirectory.appendingPathComponent(ArtifactStore.fileName(ofArtifact: artifact))
  }

  /// Sends a log line about this stage to the observer.
  public func log(_ message: String) {
    observer.pipeline(.stageLog(id, message))
  }

  /// Reports how far the stage has got, as a fraction in `0...1`.
  public func reportProgress(_ fraction: Double) {
    observer.pipeline(.progress(id, fraction: min(max(fraction, 0), 1)))
  }
}
