import Foundation
import Synchronization

/// Plans, runs, replays and garbage-collects pipeline graphs against an ``ArtifactStore``.
///
/// The runner decides everything the stages do not: which stages run (those without a committed
/// result for their cache key), in which order (a stage starts only when all its inputs are
/// committed), how many at once (up to `jobs`), and how results are committed and reused.
/// Several runners, in one process or many, may share a store: a per-key `flock` makes sure each
/// key is computed once, and the others wait and reuse the result.
///
/// ```swift
/// let runner = PipelineRunner(
///   store: try ArtifactStore(root: dataDirectory.appendingPathComponent("cache")),
///   jobs: 4, toolVersion: "1.0.0", observer: ConsoleObserver())
/// let summary = try runner.run(graph, recordAs: "fig2")
/// ```
public final class PipelineRunner: Sendable {
  /// The cache the runner reads and commits to.
  public let store: ArtifactStore
  /// The most stages that execute at the same time.
  public let jobs: Int
  /// The tool version recorded in manifests and run records.
  public let toolVersion: String
  /// Non-semantic values handed to stages (see ``StageContext/settings``); never in a key.
  public let settings: [String: String]
  /// Receives progress and log events.
  public let observer: any PipelineObserver
  /// Where run records are written (by default `runs/` next to the store's root).
  public let runsDirectory: URL
  /// Facts about the code and machine, recorded in every manifest this runner writes (see
  /// ``StageManifest/environment``); never part of a key.
  public let environment: [String: String]

  let cancellation = CancellationFlag()

  /// Creates a runner.
  ///
  /// - Parameters:
  ///   - store: the cache.
  ///   - jobs: the most stages to execute concurrently (at least 1).
  ///   - toolVersion: recorded in manifests and run records.
  ///   - settings: non-semantic values for stages, such as a mirror directory.
  ///   - observer: receives progress and log events.
  ///   - runsDirectory: where run records live; `<store root>/../runs` by default.
  public init(
    store: ArtifactStore,
    jobs: Int = 1,
    toolVersion: String,
    settings: [String: String] = [:],
    observer: any PipelineObserver = SilentPipelineObserver(),
    runsDirectory: URL? = nil,
    environment: [String: String] = [:]
  ) {
    precondition(jobs >= 1, "PipelineRunner needs at least one job, got \(jobs)")
    self.store = store
    self.jobs = jobs
    self.toolVersion = toolVersion
    self.settings = settings
    self.observer = observer
    self.environment = environment
    self.runsDirectory =
      runsDirectory ?? store.root.deletingLastPathComponent().appendingPathComponent("runs")
  }

  /// Cancels the current and any future run of this runner (thread-safe; callable from a signal
  /// handler's dispatch source). Running stages see ``StageContext/isCancelled``; no new stage
  /// starts; committed results stay committed.
  public func cancel() { cancellation.cancel() }

  /// Whether ``cancel()`` has been called.
  public var isCancelled: Bool { cancellation.isCancelled }

  // MARK: - Planning

  /// What a run would do for each stage, and why, without changing anything.
  ///
  /// Stages whose upstream outputs are not committed yet cannot have their key computed; they
  /// are reported as waiting, with the changes in the parts of the key already known.
  ///
  /// - Parameter recordName: the run record to compare keys with (like with like: the same
  ///   target, profile and overrides); nil compares with the newest record of each stage.
  public func status(
    _ graph: PipelineGraph,
    comparingWith recordName: String? = nil
  ) throws -> [StageID: StageStatus] {
    let records = RunRecord.loadAll(from: runsDirectory).filter {
      recordName == nil || $0.name == recordName
    }
    func previousMaterial(_ id: StageID) -> KeyMaterial? {
      records.lazy.compactMap { $0.stages[id]?.material }.first
    }
    var statuses: [StageID: StageStatus] = [:]
    for (id, resolution) in try resolve(graph) {
      let previous = previousMaterial(id)
      switch resolution {
      case .committed(let material, _):
        statuses[id] = .cached(key: material.key)
      case .missing(let material):
        statuses[id] = .willRun(
          key: material.key,
          changes: previous.map { material.changes(from: $0) } ?? []
        )
      case .blocked(let upstreams, let staticMaterial):
        statuses[id] = .waitingOnUpstream(
          upstreams,
          changes: previous.map { staticMaterial.changes(from: $0, includingInputs: false) } ?? []
        )
      }
    }
    return statuses
  }

  /// The location of a committed artifact of stage `id`, verified against its manifest (once
  /// per process). Reports and other consumers read artifacts through this.
  ///
  /// - Throws: ``PipelineError/notCached(_:)`` if the stage (or an upstream) has no committed
  ///   result, ``PipelineError/corruptArtifact(path:reason:)`` if verification failed (the entry
  ///   is then quarantined; run the pipeline again).
  public func verifiedArtifactURL(
    of id: StageID,
    artifact: String,
    in graph: PipelineGraph
  ) throws -> URL {
    guard let node = graph[id] else { throw PipelineError.unknownStage(id) }
    guard node.stage.outputs.contains(artifact) else {
      throw PipelineError.unknownArtifact(
        stage: id,
        input: artifact,
        upstream: id,
        artifact: artifact,
        available: node.stage.outputs
      )
    }
    guard case .committed(let material, _)? = try resolve(graph)[id] else {
      throw PipelineError.notCached(id)
    }
    return try store.verifiedArtifactURL(key: material.key, name: artifact, observer: observer)
  }

  // MARK: - Key resolution

  /// How far a stage's key can be resolved from what is committed.
  enum Resolution {
    /// Committed: the key material and its manifest.
    case committed(KeyMaterial, StageManifest)
    /// The key is known but nothing is committed under it (or the entry is invalid).
    case missing(KeyMaterial)
    /// Upstream outputs are missing: the blocking upstreams and the input-free key material.
    case blocked([StageID], KeyMaterial)
  }

  /// Resolves every stage of `graph` in topological order, without side effects.
  func resolve(_ graph: PipelineGraph) throws -> [StageID: Resolution] {
    let fileDigests = FileDigestCache()
    var resolutions: [StageID: Resolution] = [:]
    var outputs: [StageID: [String: ArtifactRecord]] = [:]
    for id in try graph.topologicalOrder() {
      let node = graph[id]!
      let blocking = node.upstreamIDs.filter { outputs[$0] == nil }
      guard blocking.isEmpty else {
        let staticMaterial = try KeyMaterial(stage: node.stage, inputDigests: [:], seed: node.seed)
        resolutions[id] = .blocked(blocking, staticMaterial)
        continue
      }
      let material = try keyMaterial(of: node, upstreamOutputs: outputs, fileDigests: fileDigests)
      if case .committed(let manifest) = store.inspectEntry(
        key: material.key,
        outputs: node.stage.outputs
      ) {
        resolutions[id] = .committed(material, manifest)
        outputs[id] = manifest.outputs
      } else {
        resolutions[id] = .missing(material)
      }
    }
    return resolutions
  }

  /// The key material of `node`, given the committed outputs of (at least) its upstreams.
  func keyMaterial(
    of node: StageNode,
    upstreamOutputs: [StageID: [String: ArtifactRecord]],
    fileDigests: FileDigestCache
  ) throws -> KeyMaterial {
    var digests: [String: String] = [:]
    for (name, input) in node.inputs {
      switch input {
      case .artifact(let upstream, let artifact):
        guard let record = upstreamOutputs[upstream]?[artifact] else {
          preconditionFailure("keyMaterial(of: \(node.id)) before \(upstream) was committed")
        }
        digests[name] = record.sha256
      case .file(let url):
        do {
          digests[name] = try fileDigests.digest(of: url)
        } catch {
          throw PipelineError.inputFileUnreadable(
            stage: node.id,
            input: name,
            path: url.path,
            reason: "\(error)"
          )
        }
      }
    }
    return try KeyMaterial(stage: node.stage, inputDigests: digests, seed: node.seed)
  }
}

// MARK: - File digests

/// External file digests computed during one operation, shared by its worker threads.
final class FileDigestCache: Sendable {
  private let digests = Mutex<[String: String]>([:])

  func digest(of url: URL) throws -> String {
    let path = url.standardizedFileURL.path
    if let known = digests.withLock({ $0[path] }) { return known }
    let digest = try fileContentDigest(url)
    digests.withLock { $0[path] = digest }
    return digest
  }
}
