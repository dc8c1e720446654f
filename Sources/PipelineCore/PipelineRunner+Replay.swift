import Foundation

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
    let resolutions = try resolve(graph)
    var replays: [ReplayReport.StageReplay] = []
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
          guard case .committed(let upstreamMaterial, _)? = resolutions[upstream] else {
            throw PipelineError.notCached(upstream)
          }
          inputURLs[name] = try store.verifiedArtifactURL(
            key: upstreamMaterial.key,
            name: artifact,
            observer: observer
          )
        }
      }
      replays.append(
        try replay(node, key: material.key, manifest: manifest, inputURLs: inputURLs)
      )
    }
    return ReplayReport(stages: replays)
  }

  private func replay(
    _ node: StageNode,
    key: String,
    manifest: StageManifest,
    inputURLs: [String: URL]
  ) throws -> ReplayReport.StageReplay {
    let scratch = try store.makeTemporaryDirectory(key: nil)
    defer { try? FileManager.default.removeItem(at: scratch) }
    let context = StageContext(
      id: node.id,
      seed: node.seed,
      settings: settings,
      inputs: inputURLs,
      outputDirectory: scratch,
      declaredOutputs: node.stage.outputs,
      cancellation: cancellation,
      observer: observer
    )
    observer.pipeline(.stageStarted(node.id, key: key))
    do {
      try node.stage.run(context)
    } catch {
      throw PipelineError.stageFailed(node.id, underlying: error)
    }
    var comparisons: [ReplayReport.ArtifactComparison] = []
    for name in node.stage.outputs.sorted() {
      let replayed = try ArtifactDigest(ofFileAt: context.outputURL(name))
      let cachedSHA256 = manifest.outputs[name]!.sha256
      var differing: [String] = []
      if replayed.sha256 != cachedSHA256 {
        let cachedURL = store.artifactURL(key: key, name: name)
        differing =
          (try? ArtifactDigest(ofFileAt: cachedURL).differingParts(comparedWith: replayed))
          ?? replayed.parts.keys.sorted()
      }
      comparisons.append(
        ReplayReport.ArtifactComparison(
          name: name,
          cachedSHA256: cachedSHA256,
          replayedSHA256: replayed.sha256,
          differingDatasets: differing
        )
      )
    }
    return ReplayReport.StageReplay(id: node.id, key: key, artifacts: comparisons)
  }
}
