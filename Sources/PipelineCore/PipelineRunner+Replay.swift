import Foundation
import HDF5Store

extension PipelineRunner {
  // MARK: - Replay

  /// Re-executes the given committed stages from their committed inputs into a scratch
  /// directory (never into the store) and compares each output with the committed one.
  ///
  /// - Throws: ``PipelineError/unknownStage(_:)``, ``PipelineError/notCached(_:)`` if a stage
  ///   has no committed result, ``PipelineError/stageFailed(_:underlying:)`` if it fails.
  public func replay(_ graph: PipelineGraph, stages ids: [StageID]) throws -> ReplayReport {
    let activity = try holdActivityLock()
    defer { withExtendedLifetime(activity) {} }
    // Inputs whose bytes were pruned are restored first (recomputed and verified), unless an
    // earlier stage of this replay produces them.
    for id in ids {
      guard let node = graph[id] else { throw PipelineError.unknownStage(id) }
      for case .artifact(let upstream, _) in node.inputs.values where !ids.contains(upstream) {
        try restorePrunedOutputs(of: upstream, in: graph)
      }
    }
    let resolutions = try resolve(graph)
    var replays: [ReplayReport.StageReplay] = []
    var replayedOutputs: [StageID: URL] = [:]
    defer { for url in replayedOutputs.values { try? FileManager.default.removeItem(at: url) } }
    for id in ids {
      guard let node = graph[id] else { throw PipelineError.unknownStage(id) }
      guard case .committed(let material, let manifest)? = resolutions[id] else {
        throw PipelineError.notCached(id)
      }
      var inputURLs: [String: URL] = [:]
      for (name, input) in node.inputs {
        switch input {
        case .file(let url):
          inputURLs[name] = url
        case .artifact(let upstream, let artifact):
          guard case .committed(let upstreamMaterial, let upstreamManifest)? = resolutions[upstream]
          else {
            throw PipelineError.notCached(upstream)
          }
          if upstreamManifest.isPruned(artifact), let scratch = replayedOutputs[upstream] {
            // Replayed bit for bit just before (or the comparison below says it was not).
            inputURLs[name] = scratch.appendingPathComponent(
              ArtifactStore.fileName(ofArtifact: artifact)
            )
            continue
          }
          inputURLs[name] = try store.verifiedArtifactURL(
            key: upstreamMaterial.key,
            name: artifact,
            observer: observer
          )
        }
      }
      let scratch = try store.makeTemporaryDirectory(key: nil)
      replayedOutputs[id] = scratch
      replays.append(
        try replay(
          node,
          key: material.key,
          manifest: manifest,
          inputURLs: inputURLs,
          scratch: scratch
        )
      )
    }
    return ReplayReport(stages: replays)
  }

  private func replay(
    _ node: StageNode,
    key: String,
    manifest: StageManifest,
    inputURLs: [String: URL],
    scratch: URL
  ) throws -> ReplayReport.StageReplay {
    switch runStage(node, key: key, inputURLs: inputURLs, into: scratch) {
    case .finished: break
    case .ended(.failed(let error)): throw error
    case .ended: throw PipelineError.cancelled(interrupted: [node.id])
    }
    var comparisons: [ReplayReport.ArtifactComparison] = []
    for name in node.stage.outputs.sorted() {
      let output = scratch.appendingPathComponent(ArtifactStore.fileName(ofArtifact: name))
      let replayed = try ArtifactDigest(ofFileAt: output)
      let cachedSHA256 = manifest.outputs[name]!.sha256
      var differing: [String] = []
      var largest: [String: Double] = [:]
      if replayed.sha256 != cachedSHA256 {
        differing = replayed.parts.keys.sorted()
        if !manifest.isPruned(name) {
          let cachedURL = store.artifactURL(key: key, name: name)
          if let parts = try? ArtifactDigest(ofFileAt: cachedURL).differingParts(
            comparedWith: replayed
          ) {
            differing = parts
          }
          largest = Self.largestDifferences(cachedURL, output, datasets: differing)
        }
      }
      var comparison = ReplayReport.ArtifactComparison(
        name: name,
        cachedSHA256: cachedSHA256,
        replayedSHA256: replayed.sha256,
        differingDatasets: differing
      )
      comparison.largestDifferences = largest
      comparison.cachedWasPruned = manifest.isPruned(name)
      comparisons.append(comparison)
    }
    var replay = ReplayReport.StageReplay(id: node.id, key: key, artifacts: comparisons)
    replay.recordedEnvironment = manifest.environment ?? [:]
    replay.currentEnvironment = environment
    return replay
  }

  /// The largest absolute difference of each numeric dataset present in both files (read as
  /// Double; datasets of other types are left out).
  static func largestDifferences(
    _ cached: URL,
    _ replayed: URL,
    datasets: [String]
  ) -> [String: Double] {
    guard let a = try? HDF5File.open(cached.path), let b = try? HDF5File.open(replayed.path)
    else { return [:] }
    defer {
      try? a.close()
      try? b.close()
    }
    var result: [String: Double] = [:]
    for path in datasets where path != "/" {
      func values(_ file: HDF5File) -> [Double]? {
        if let doubles = try? file.read(path, as: Double.self).values { return doubles }
        if let floats = try? file.read(path, as: Float.self).values {
          return floats.map(Double.init)
        }
        if let ints = try? file.read(path, as: Int64.self).values { return ints.map(Double.init) }
        return nil
      }
      guard let x = values(a), let y = values(b), x.count == y.count else { continue }
      result[path] = zip(x, y).map { abs($0 - $1) }.max() ?? 0
    }
    return result
  }
}
