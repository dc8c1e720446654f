import Foundation

extension PipelineRunner {
  // MARK: - Running

  /// Runs every stage of `graph` that has no committed result, reusing the others, and writes
  /// the run record `<runs directory>/<recordAs>.json`.
  ///
  /// Up to ``jobs`` stages execute at once, each as soon as all its inputs are committed. Stale
  /// temporary directories of dead processes are removed first. A corrupt cached entry is
  /// quarantined (one warning) and recomputed in the same run, together with what depends on it.
  ///
  /// - Throws: ``PipelineError/stageFailed(_:underlying:)`` naming the first stage that failed
  ///   (no new stage starts after a failure; running ones finish and commit), or
  ///   ``PipelineError/cancelled(interrupted:)`` after ``cancel()``. Committed results stay
  ///   committed either way, and the run record lists them.
  /// - Parameters:
  ///   - labels: facts about the run in the caller's terms, stored in the record (see
  ///     ``RunRecord/labels``).
  ///   - parameters: the run's parameters in the user's names (see ``RunRecord/parameters``).
  @discardableResult
  public func run(
    _ graph: PipelineGraph,
    recordAs recordName: String,
    labels: [String: String] = [:],
    parameters: [String: String] = [:]
  ) throws -> RunSummary {
    try run(
      graph,
      recordAs: RecordIdentity(name: recordName, labels: labels, parameters: parameters),
      restoring: []
    )
  }

  /// Restores the pruned outputs of the committed stage `id` (recomputing it, and whatever
  /// pruned inputs it needs, and verifying the results against the recorded digests); a stage
  /// with all its outputs present is left alone. Writes no run record.
  public func restorePrunedOutputs(of id: StageID, in graph: PipelineGraph) throws {
    var included: Set<StageID> = []
    var pending = [id]
    while let next = pending.popLast() {
      guard included.insert(next).inserted, let node = graph[next] else { continue }
      pending += node.upstreamIDs
    }
    let subgraph = try PipelineGraph(graph.nodes.filter { included.contains($0.id) })
    _ = try run(subgraph, recordAs: nil, restoring: [id])
  }

  func run(
    _ graph: PipelineGraph,
    recordAs record: RecordIdentity?,
    restoring: Set<StageID>
  ) throws -> RunSummary {
    let order = try graph.topologicalOrder()
    let activity = try holdActivityLock()
    defer { withExtendedLifetime(activity) {} }
    store.removeStaleTemporaryDirectories(observer: observer)
    let schedule = Schedule(graph: graph, order: order, restoring: restoring)
    let fileDigests = FileDigestCache()
    let workers = DispatchGroup()
    for _ in 0..<max(1, min(jobs, order.count)) {
      workers.enter()
      let thread = Thread { [self] in
        work(on: schedule, fileDigests: fileDigests)
        workers.leave()
      }
      thread.stackSize = 16 << 20  // stages may recurse (model code); the default is small
      thread.start()
    }
    workers.wait()

    let completed = schedule.completed
    let isComplete = completed.count == order.count
    if let record {
      try writeRecord(record, completed: completed, isComplete: isComplete)
    }
    if !isComplete {
      if let failure = schedule.failure { throw failure }
      throw PipelineError.cancelled(interrupted: schedule.interrupted.sorted())
    }
    return RunSummary(stages: order.map { completed[$0]!.outcome })
  }

  /// One worker thread: takes ready stages until the graph is done, failed or cancelled.
  private func work(on schedule: Schedule, fileDigests: FileDigestCache) {
    while let (node, upstreams) = schedule.nextStage(isCancelled: { cancellation.isCancelled }) {
      let result = execute(
        node,
        upstreams: upstreams,
        fileDigests: fileDigests,
        restorePruned: schedule.needsRestore(node.id)
      )
      schedule.finish(node.id, with: result)
    }
  }

  /// Satisfies one stage: reuse its committed result or compute and commit it.
  ///
  /// With `restorePruned`, a committed entry whose outputs were pruned is recomputed and its
  /// pruned outputs restored after checking them against the recorded digests.
  private func execute(
    _ node: StageNode,
    upstreams: [StageID: CompletedStage],
    fileDigests: FileDigestCache,
    restorePruned: Bool = false
  ) -> StageResult {
    do {
      let material = try keyMaterial(
        of: node,
        upstreamOutputs: upstreams.mapValues(\.outcome.outputs),
        fileDigests: fileDigests
      )
      let key = material.key
      if case .committed(let manifest) = store.inspectEntry(key: key, outputs: node.stage.outputs),
        outputsVerify(manifest), !(restorePruned && !(manifest.pruned ?? []).isEmpty)
      {
        return reuse(node.id, manifest: manifest, material: material)
      }

      // Verify the inputs before locking: a corrupt upstream must be recomputed first.
      var inputURLs: [String: URL] = [:]
      for (name, input) in node.inputs {
        switch input {
        case .file(let url):
          inputURLs[name] = url
        case .artifact(let upstream, let artifact):
          do {
            inputURLs[name] = try store.verifiedArtifactURL(
              key: upstreams[upstream]!.outcome.key,
              name: artifact,
              observer: observer
            )
          } catch PipelineError.corruptArtifact {
            return .upstreamCorrupt(upstream)
          } catch PipelineError.prunedArtifact {
            return .upstreamPruned(upstream)
          }
        }
      }

      let lock = try KeyLock.acquire(
        store.lockURL(key: key),
        onWait: { observer.pipeline(.waiting(node.id)) },
        isCancelled: { cancellation.isCancelled }
      )
      defer { withExtendedLifetime(lock) {} }  // held until the commit is complete
      switch store.inspectEntry(key: key, outputs: node.stage.outputs) {
      case .committed(let manifest) where !(manifest.pruned ?? []).isEmpty && restorePruned:
        return try restore(node, manifest: manifest, material: material, inputURLs: inputURLs)
      case .committed(let manifest):  // another process committed it while we waited
        return reuse(node.id, manifest: manifest, material: material)
      case .invalid(let reason):
        store.quarantine(key: key, reason: reason, observer: observer)
      case .absent:
        break
      }
      return try compute(node, material: material, inputURLs: inputURLs)
    } catch is CancellationError {
      return .cancelled
    } catch let error as PipelineError {
      return .failed(error)
    } catch {
      return .failed(.stageFailed(node.id, underlying: error))
    }
  }

  /// Recomputes a committed entry whose outputs were pruned, in a temporary directory, and
  /// restores them if they have their recorded digests. The caller holds the key's lock.
  ///
  /// - Throws: ``PipelineError/recomputedDiffers(stage:artifact:recorded:current:)`` naming the
  ///   machine facts recorded with the entry and this machine's.
  private func restore(
    _ node: StageNode,
    manifest: StageManifest,
    material: KeyMaterial,
    inputURLs: [String: URL]
  ) throws -> StageResult {
    let temporary = try store.makeTemporaryDirectory(key: manifest.key)
    defer { try? FileManager.default.removeItem(at: temporary) }
    let seconds: Double
    switch runStage(node, key: manifest.key, inputURLs: inputURLs, into: temporary) {
    case .finished(let elapsed): seconds = elapsed
    case .ended(let result): return result
    }
    let differing = try store.restorePruned(temporary, key: manifest.key)
    if let first = differing.first {
      throw PipelineError.recomputedDiffers(
        stage: node.id,
        artifact: first,
        recorded: manifest.environment ?? [:],
        current: environment
      )
    }
    observer.pipeline(.stageFinished(node.id, key: manifest.key, seconds: seconds))
    let outcome = StageOutcome(
      id: node.id,
      key: manifest.key,
      wasCached: false,
      durationSeconds: seconds,
      outputs: manifest.outputs
    )
    return .completed(CompletedStage(outcome: outcome, material: material))
  }

  /// Whether every output of a committed entry still has its recorded logical digest (checked
  /// once per store instance). A damaged entry is quarantined with one warning by the store, so
  /// the stage is recomputed: damage is found on the next run even if nothing reads the file.
  /// Pruned outputs are not checked: only their digests are kept.
  private func outputsVerify(_ manifest: StageManifest) -> Bool {
    for name in manifest.outputs.keys.sorted() where !manifest.isPruned(name) {
      do {
        _ = try store.verifiedArtifactURL(key: manifest.key, name: name, observer: observer)
      } catch {
        return false
      }
    }
    return true
  }

  private func reuse(
    _ id: StageID,
    manifest: StageManifest,
    material: KeyMaterial
  ) -> StageResult {
    observer.pipeline(.stageCached(id, key: manifest.key))
    let outcome = StageOutcome(
      id: id,
      key: manifest.key,
      wasCached: true,
      durationSeconds: 0,
      outputs: manifest.outputs
    )
    return .completed(CompletedStage(outcome: outcome, material: material))
  }

  /// Runs the stage into a temporary directory and commits its outputs; the caller holds the
  /// key's lock.
  private func compute(
    _ node: StageNode,
    material: KeyMaterial,
    inputURLs: [String: URL]
  ) throws -> StageResult {
    let key = material.key
    let temporary = try store.makeTemporaryDirectory(key: key)
    defer { try? FileManager.default.removeItem(at: temporary) }
    let startedAt = Date()
    let seconds: Double
    switch runStage(node, key: key, inputURLs: inputURLs, into: temporary) {
    case .finished(let elapsed): seconds = elapsed
    case .ended(let result): return result
    }

    for artifact in node.stage.outputs {
      let url = temporary.appendingPathComponent(ArtifactStore.fileName(ofArtifact: artifact))
      guard FileManager.default.fileExists(atPath: url.path) else {
        throw PipelineError.missingOutput(stage: node.id, artifact: artifact, path: url.path)
      }
    }
    let manifest: StageManifest
    do {
      manifest = try store.commit(temporary, key: key, outputs: node.stage.outputs) { records in
        StageManifest(
          key: key,
          material: material,
          outputs: records,
          stageID: node.id,
          startedAt: startedAt,
          durationSeconds: seconds,
          host: SystemCalls.hostName,
          toolVersion: toolVersion,
          processID: SystemCalls.processID,
          environment: environment.isEmpty ? nil : environment
        )
      }
    } catch PipelineError.corruptArtifact(_, let reason) {
      // The stage wrote something that is not a readable HDF5 file.
      throw PipelineError.stageFailed(
        node.id,
        underlying: PipelineError.corruptArtifact(path: temporary.path, reason: reason)
      )
    }
    observer.pipeline(.stageFinished(node.id, key: key, seconds: seconds))
    let outcome = StageOutcome(
      id: node.id,
      key: key,
      wasCached: false,
      durationSeconds: seconds,
      outputs: manifest.outputs
    )
    return .completed(CompletedStage(outcome: outcome, material: material))
  }

  /// How running a stage's code ended.
  enum StageRun {
    /// It returned normally after this many seconds.
    case finished(seconds: Double)
    /// It was cancelled or failed: the stage's result.
    case ended(StageResult)
  }

  /// Runs `node`'s code with its outputs going to `temporary`, telling the observer (the one
  /// place a stage's code runs: computing, restoring and replaying).
  func runStage(
    _ node: StageNode,
    key: String,
    inputURLs: [String: URL],
    into temporary: URL
  ) -> StageRun {
    let context = StageContext(
      id: node.id,
      seed: node.seed,
      settings: settings,
      inputs: inputURLs,
      outputDirectory: temporary,
      declaredOutputs: node.stage.outputs,
      cancellation: cancellation,
      observer: observer
    )
    observer.pipeline(.stageStarted(node.id, key: key))
    let clock = ContinuousClock()
    let start = clock.now
    do {
      try node.stage.run(context)
    } catch is CancellationError {
      return .ended(.cancelled)
    } catch {
      observer.pipeline(.stageFailed(node.id, message: "\(error)"))
      return .ended(.failed(PipelineError.stageFailed(node.id, underlying: error)))
    }
    let elapsed = clock.now - start
    return .finished(
      seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    )
  }

  // MARK: - Run records

  /// Writes a run record for imported entries, so that `gc` keeps them like computed ones.
  ///
  /// - Parameter labels: facts about the import in the caller's terms (see
  ///   ``RunRecord/labels``).
  public func recordImport(
    named name: String,
    manifests: [StageManifest],
    labels: [String: String] = [:]
  ) throws {
    var stages: [StageID: RunRecord.Entry] = [:]
    for manifest in manifests.sorted(by: { $0.key < $1.key }) {
      var id = manifest.stageID
      if stages[id] != nil { id = StageID("\(id.rawValue)#\(manifest.key.prefix(12))") }
      stages[id] = RunRecord.Entry(
        key: manifest.key,
        material: manifest.material,
        outputs: manifest.outputs
      )
    }
    try FileManager.default.createDirectory(at: runsDirectory, withIntermediateDirectories: true)
    let record = RunRecord(
      name: name,
      toolVersion: toolVersion,
      finishedAt: Date(),
      isComplete: true,
      stages: stages,
      labels: labels
    )
    try PipelineJSON.writeAtomically(
      record,
      to: runsDirectory.appendingPathComponent("\(name).json")
    )
  }

  /// Writes the run record; an incomplete run is merged into the previous record of that name,
  /// so stopping early never drops what the last complete run referenced.
  private func writeRecord(
    _ identity: RecordIdentity,
    completed: [StageID: CompletedStage],
    isComplete: Bool
  ) throws {
    do {
      try FileManager.default.createDirectory(
        at: runsDirectory,
        withIntermediateDirectories: true
      )
    } catch {
      throw PipelineError.fileSystem(
        operation: "create directory",
        path: runsDirectory.path,
        reason: error.localizedDescription
      )
    }
    let url = runsDirectory.appendingPathComponent("\(identity.name).json")
    var stages: [StageID: RunRecord.Entry] = [:]
    if !isComplete, let data = try? Data(contentsOf: url),
      let previous = try? PipelineJSON.decoder().decode(RunRecord.self, from: data)
    {
      stages = previous.stages
    }
    for (id, stage) in completed {
      stages[id] = RunRecord.Entry(
        key: stage.outcome.key,
        material: stage.material,
        outputs: stage.outcome.outputs
      )
    }
    let record = RunRecord(
      name: identity.name,
      toolVersion: toolVersion,
      finishedAt: Date(),
      isComplete: isComplete,
      stages: stages,
      labels: identity.labels,
      parameters: identity.parameters
    )
    try PipelineJSON.writeAtomically(record, to: url)
  }
}

/// The name of a run record and what it says about its run.
struct RecordIdentity: Sendable {
  var name: String
  var labels: [String: String]
  var parameters: [String: String]
}

// MARK: - Scheduling

/// A stage that has a committed result in this run.
struct CompletedStage: Sendable {
  var outcome: StageOutcome
  var material: KeyMaterial
}

/// How one attempt at a stage ended.
enum StageResult: Sendable {
  case completed(CompletedStage)
  /// An upstream artifact failed verification and was quarantined.
  case upstreamCorrupt(StageID)
  /// An upstream artifact this stage reads was pruned: the upstream must be restored first.
  case upstreamPruned(StageID)
  case failed(PipelineError)
  case cancelled
}

/// The shared state of one run's worker threads.
///
/// Every stored property is guarded by `condition`; that is what makes the class safe to share.
final class Schedule: @unchecked Sendable {
  private enum State {
    case pending
    case running
    case completed(CompletedStage)
  }

  /// How often one upstream may be found corrupt in a run before the run gives up.
  private static let corruptionRetryLimit = 2

  private let condition = NSCondition()
  private let graph: PipelineGraph
  private let order: [StageID]
  private var states: [StageID: State]
  private var staleWhenFinished: Set<StageID> = []
  private var corruptionCounts: [StageID: Int] = [:]
  /// Stages whose committed entries must be recomputed to restore pruned outputs.
  private var restoring: Set<StageID> = []
  /// Stages that restored their pruned outputs in this run.
  private var restored: Set<StageID> = []
  /// How often each stage was asked to restore its pruned outputs in this run.
  private var restoreRequests: [StageID: Int] = [:]
  private var firstFailure: PipelineError?
  private var interruptedStages: Set<StageID> = []

  init(graph: PipelineGraph, order: [StageID], restoring: Set<StageID> = []) {
    self.graph = graph
    self.order = order
    self.restoring = restoring
    self.states = Dictionary(uniqueKeysWithValues: order.map { ($0, State.pending) })
  }

  /// The first failure, if any stage failed.
  var failure: PipelineError? { condition.withLock { firstFailure } }

  /// The stages that were running when the run was cancelled.
  var interrupted: Set<StageID> { condition.withLock { interruptedStages } }

  /// The stages with a committed result.
  var completed: [StageID: CompletedStage] {
    condition.withLock {
      states.compactMapValues { state in
        if case .completed(let stage) = state { return stage }
        return nil
      }
    }
  }

  /// Blocks until a stage is ready and claims it, with its upstreams' results; nil once the
  /// graph is done, has failed or is cancelled.
  func nextStage(
    isCancelled: () -> Bool
  ) -> (StageNode, [StageID: CompletedStage])? {
    condition.lock()
    defer { condition.unlock() }
    while true {
      if firstFailure != nil || isCancelled() { return nil }
      var anyRunning = false
      var allCompleted = true
      for id in order {
        switch states[id]! {
        case .running:
          anyRunning = true
          allCompleted = false
        case .completed:
          continue
        case .pending:
          allCompleted = false
          let node = graph[id]!
          var upstreams: [StageID: CompletedStage] = [:]
          for upstream in node.upstreamIDs {
            guard case .completed(let stage) = states[upstream]! else { break }
            upstreams[upstream] = stage
          }
          if upstreams.count == node.upstreamIDs.count {
            states[id] = .running
            return (node, upstreams)
          }
        }
      }
      if allCompleted || !anyRunning { return nil }
      // Wake up now and then to notice cancellation, which does not signal the condition.
      _ = condition.wait(until: Date(timeIntervalSinceNow: 0.05))
    }
  }

  /// Whether the stage must restore its pruned outputs (a downstream stage needs them).
  func needsRestore(_ id: StageID) -> Bool {
    condition.lock()
    defer { condition.unlock() }
    return restoring.contains(id)
  }

  /// Records how a claimed stage ended and wakes the waiting workers.
  func finish(_ id: StageID, with result: StageResult) {
    condition.lock()
    defer {
      condition.broadcast()
      condition.unlock()
    }
    switch result {
    case .completed(let stage):
      if restoring.remove(id) != nil { restored.insert(id) }
      if staleWhenFinished.remove(id) != nil {
        states[id] = .pending  // an upstream was recomputed meanwhile; resolve the key again
      } else {
        states[id] = .completed(stage)
      }
    case .upstreamPruned(let upstream):
      states[id] = .pending
      // A stage that read the output before it was restored asks again; only a restore that
      // did not bring the bytes back, again and again, is a failure.
      restoreRequests[upstream, default: 0] += 1
      guard restoreRequests[upstream]! <= Self.corruptionRetryLimit + 1 else {
        firstFailure =
          firstFailure
          ?? .stageFailed(
            upstream,
            underlying: PipelineError.corruptArtifact(
              path: upstream.rawValue,
              reason: "its pruned output is still missing after it was restored"
            )
          )
        return
      }
      guard !restored.contains(upstream) else { return }  // restored meanwhile: just retry
      restoring.insert(upstream)
      if case .running = states[upstream]! {
        staleWhenFinished.insert(upstream)
      } else {
        states[upstream] = .pending
      }
    case .upstreamCorrupt(let upstream):
      states[id] = .pending
      corruptionCounts[upstream, default: 0] += 1
      guard corruptionCounts[upstream]! <= Self.corruptionRetryLimit else {
        firstFailure =
          firstFailure
          ?? .stageFailed(
            upstream,
            underlying: PipelineError.corruptArtifact(
              path: upstream.rawValue,
              reason: "its recomputed output failed verification again"
            )
          )
        return
      }
      for stale in [upstream] + graph.descendants(of: upstream) {
        if case .running = states[stale]! {
          staleWhenFinished.insert(stale)
        } else {
          states[stale] = .pending
        }
      }
    case .failed(let error):
      states[id] = .pending
      firstFailure = firstFailure ?? error
    case .cancelled:
      states[id] = .pending
      interruptedStages.insert(id)
    }
  }
}
