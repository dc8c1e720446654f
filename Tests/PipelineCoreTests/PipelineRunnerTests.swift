import Foundation
import HDF5Store
import PipelineCore
import Testing

@Suite struct PipelineRunnerTests {
  // MARK: - Caching

  @Test func secondRunExecutesNothing() throws {
    let store = try ToyStore()
    let log = ExecutionLog()
    let graph = try ToyGraphs.chain(log: log)
    let first = try store.runner().run(graph, recordAs: "main")
    #expect(first.executed == [ToyGraphs.source, ToyGraphs.scale])
    let second = try store.runner().run(graph, recordAs: "main")
    #expect(second.executed.isEmpty)
    #expect(second.cached == [ToyGraphs.source, ToyGraphs.scale])
    #expect(log.total == 2)
    #expect(second[ToyGraphs.scale]?.outputs == first[ToyGraphs.scale]?.outputs)
    #expect(store.contents(of: "tmp").isEmpty)
  }

  @Test func identicalUpstreamOutputLeavesDownstreamCached() throws {
    let store = try ToyStore()
    let log = ExecutionLog()
    let first = try store.runner().run(ToyGraphs.chain(label: "a", log: log), recordAs: "main")
    let second = try store.runner().run(ToyGraphs.chain(label: "b", log: log), recordAs: "main")
    #expect(second.executed == [ToyGraphs.source])
    #expect(second[ToyGraphs.source]?.key != first[ToyGraphs.source]?.key)
    #expect(second[ToyGraphs.scale]?.key == first[ToyGraphs.scale]?.key)
  }

  @Test func nonSemanticSettingsDoNotChangeKeys() throws {
    let log = ExecutionLog()
    let graph = try ToyGraphs.chain(log: log)
    let one = try ToyStore().runner(jobs: 1).run(graph, recordAs: "a")
    let other = try ToyStore().runner(jobs: 3, settings: ["mirror": "/elsewhere"])
      .run(graph, recordAs: "b")
    #expect(one.stages.map(\.key) == other.stages.map(\.key))
  }

  // MARK: - Crashes and corruption

  @Test func cleansUpAfterACrashAndRecomputesUncommittedEntries() throws {
    let store = try ToyStore()
    let log = ExecutionLog()
    let graph = try ToyGraphs.chain(log: log)
    let first = try store.runner().run(graph, recordAs: "main")

    // A killed writer's temporary directory, and a committed artifact whose manifest never came.
    let deadPID = try Self.deadProcessID()
    let key = try #require(first[ToyGraphs.scale]?.key)
    let leftover = store.cache.appendingPathComponent("tmp/\(key).\(deadPID).12345")
    try FileManager.default.createDirectory(at: leftover, withIntermediateDirectories: true)
    try Data([1, 2, 3]).write(to: leftover.appendingPathComponent("scaled.h5"))
    let entry = try ArtifactStore(root: store.cache).entryDirectory(forKey: key)
    try FileManager.default.removeItem(at: entry.appendingPathComponent("manifest.json"))

    let observer = RecordingObserver()
    let second = try store.runner(observer: observer).run(graph, recordAs: "main")
    #expect(second.executed == [ToyGraphs.scale])
    #expect(second[ToyGraphs.scale]?.outputs == first[ToyGraphs.scale]?.outputs)
    #expect(observer.removedTemporaries.map(\.lastPathComponent) == [leftover.lastPathComponent])
    #expect(store.contents(of: "tmp").isEmpty)
    #expect(observer.warnings.isEmpty)
  }

  enum Corruption: String, CaseIterable {
    case truncateArtifact, flipArtifactBit, garbleManifest
  }

  @Test(arguments: Corruption.allCases)
  func corruptEntriesAreQuarantinedAndRecomputed(_ corruption: Corruption) throws {
    let store = try ToyStore()
    let log = ExecutionLog()
    let first = try store.runner().run(ToyGraphs.chain(factor: 2, log: log), recordAs: "main")
    let key = try #require(first[ToyGraphs.source]?.key)
    let entry = try ArtifactStore(root: store.cache).entryDirectory(forKey: key)
    let artifact = entry.appendingPathComponent("data.h5")
    switch corruption {
    case .truncateArtifact:
      let bytes = try Data(contentsOf: artifact)
      try bytes.prefix(bytes.count / 2).write(to: artifact)
    case .flipArtifactBit:
      var bytes = [UInt8](try Data(contentsOf: artifact))
      // The first stored value, 1.0f, little-endian: flip a bit of it, keeping the size.
      let pattern: [UInt8] = [0x00, 0x00, 0x80, 0x3F]
      let offset = try #require(
        (0...(bytes.count - 4)).first { Array(bytes[$0..<$0 + 4]) == pattern }
      )
      bytes[offset + 2] ^= 0x01
      try Data(bytes).write(to: artifact)
    case .garbleManifest:
      try Data("{ not json".utf8).write(to: entry.appendingPathComponent("manifest.json"))
    }

    // A new downstream parameter makes the next run read the corrupt upstream artifact.
    let observer = RecordingObserver()
    let repaired = try store.runner(observer: observer)
      .run(ToyGraphs.chain(factor: 3, log: log), recordAs: "main")
    let clean = try ToyStore().runner().run(ToyGraphs.chain(factor: 3, log: log), recordAs: "x")
    #expect(observer.warnings.count == 1)
    #expect(store.contents(of: "quarantine").count == 1)
    #expect(repaired.executed == [ToyGraphs.source, ToyGraphs.scale])
    #expect(repaired.stages.map(\.outputs) == clean.stages.map(\.outputs))
    #expect(
      try store.runner().run(ToyGraphs.chain(factor: 3, log: log), recordAs: "main")
        .executed.isEmpty
    )
  }

  // MARK: - Concurrency

  @Test func twoRunnersShareTheWorkThroughKeyLocks() throws {
    let store = try ToyStore()
    let log = ExecutionLog()
    let graph = try ToyGraphs.wide(width: 4, log: log)
    let results = Results()
    DispatchQueue.concurrentPerform(iterations: 2) { index in
      do {
        let summary = try store.runner(jobs: 2).run(graph, recordAs: "run-\(index)")
        results.append(summary.stages.map(\.outputs))
      } catch {
        results.append([])
      }
    }
    let outputs = results.all
    #expect(outputs.count == 2)
    #expect(outputs.first == outputs.last)
    #expect(outputs.first?.count == 8)
    for node in graph.nodes { #expect(log.count(node.id) == 1, "\(node.id)") }
    #expect(store.contents(of: "tmp").isEmpty)
  }

  // MARK: - Status

  @Test func statusReportsCachedWillRunAndWaitingWithReasons() throws {
    let store = try ToyStore()
    let log = ExecutionLog()
    let runner = try store.runner()
    let before = try runner.status(ToyGraphs.chain(log: log))
    guard case .willRun(_, let changes)? = before[ToyGraphs.source] else {
      Issue.record("expected willRun, got \(String(describing: before[ToyGraphs.source]))")
      return
    }
    #expect(changes.isEmpty)
    #expect(before[ToyGraphs.scale] == .waitingOnUpstream([ToyGraphs.source], changes: []))

    let summary = try runner.run(ToyGraphs.chain(log: log), recordAs: "main")
    let after = try runner.status(ToyGraphs.chain(log: log))
    #expect(after[ToyGraphs.source] == .cached(key: summary[ToyGraphs.source]!.key))
    #expect(after[ToyGraphs.scale] == .cached(key: summary[ToyGraphs.scale]!.key))

    let newFactor = try runner.status(ToyGraphs.chain(factor: 4, log: log))
    guard case .willRun(_, let factorChanges)? = newFactor[ToyGraphs.scale] else {
      Issue.record("expected willRun, got \(String(describing: newFactor[ToyGraphs.scale]))")
      return
    }
    #expect(
      factorChanges == [
        KeyChange(
          component: "parameters.factor",
          old: "f64:4000000000000000",
          new: "f64:4010000000000000"
        )
      ]
    )

    let newSeed = try runner.status(ToyGraphs.chain(factor: 4, seed: 8, log: log))
    guard case .willRun(_, let seedChanges)? = newSeed[ToyGraphs.source],
      case .waitingOnUpstream(let blocking, let staticChanges)? = newSeed[ToyGraphs.scale]
    else {
      Issue.record("unexpected statuses \(newSeed)")
      return
    }
    #expect(seedChanges == [KeyChange(component: "seed", old: "7", new: "8")])
    #expect(blocking == [ToyGraphs.source])
    #expect(staticChanges.map(\.component) == ["parameters.factor"])
  }

  // MARK: - Replay

  @Test func replayVerifiesDeterministicStagesAndFlagsNondeterministicOnes() throws {
    let store = try ToyStore()
    let log = ExecutionLog()
    var graph = try ToyGraphs.chain(log: log)
    let noisy: StageID = "toy/noisy"
    try graph.add(StageNode(id: noisy, stage: Noisy(parameters: .init(count: 8))))
    let runner = try store.runner()
    try runner.run(graph, recordAs: "main")

    let report = try runner.replay(graph, stages: [ToyGraphs.scale, noisy])
    #expect(report.stages.map(\.id) == [ToyGraphs.scale, noisy])
    #expect(report.stages[0].isIdentical)
    let noise = try #require(report.stages[1].artifacts.first)
    #expect(!noise.isIdentical)
    #expect(noise.differingDatasets == ["values"])
    #expect(!report.isIdentical)
    #expect(store.contents(of: "tmp").isEmpty)
    #expect(throws: PipelineError.self) {
      try runner.replay(ToyGraphs.chain(factor: 9, log: log), stages: [ToyGraphs.scale])
    }
  }

  // MARK: - Garbage collection

  @Test func garbageCollectionRemovesOnlyUnreferencedEntries() throws {
    let store = try ToyStore()
    let log = ExecutionLog()
    let runner = try store.runner()
    let old = try runner.run(ToyGraphs.chain(factor: 2, log: log), recordAs: "main")
    let new = try runner.run(ToyGraphs.chain(factor: 5, log: log), recordAs: "main")
    let stale = try ArtifactStore(root: store.cache)
      .entryDirectory(forKey: old[ToyGraphs.scale]!.key)

    let dryRun = try runner.collectGarbage(dryRun: true)
    #expect(dryRun.isDryRun)
    #expect(dryRun.items.map(\.path.path) == [stale.path])
    #expect(dryRun.items.first?.category == .unreferencedEntry)
    #expect(dryRun.totalBytes > 0)
    #expect(FileManager.default.fileExists(atPath: stale.path))

    let real = try runner.collectGarbage(dryRun: false)
    #expect(real.items == dryRun.items)
    #expect(!FileManager.default.fileExists(atPath: stale.path))
    let again = try runner.run(ToyGraphs.chain(factor: 5, log: log), recordAs: "main")
    #expect(again.executed.isEmpty)
    #expect(again.stages.map(\.key) == new.stages.map(\.key))
  }

  @Test func everyRecordedRunKeepsItsEntriesUntilItIsForgotten() throws {
    let store = try ToyStore()
    let log = ExecutionLog()
    let runner = try store.runner()
    // Two protocols share the source stage; each has its own scale stage.
    let two = try runner.run(
      ToyGraphs.chain(factor: 2, log: log),
      recordAs: "factor-2",
      labels: ["target": "toy", "profile": "p", "parameters-digest": "two"],
      parameters: ["factor": "2"]
    )
    let five = try runner.run(ToyGraphs.chain(factor: 5, log: log), recordAs: "factor-5")
    let entries = try ArtifactStore(root: store.cache)
    let onlyTwo = entries.entryDirectory(forKey: two[ToyGraphs.scale]!.key)
    let shared = entries.entryDirectory(forKey: two[ToyGraphs.source]!.key)
    #expect(two[ToyGraphs.source]!.key == five[ToyGraphs.source]!.key)

    // Nothing is garbage while both runs are recorded.
    #expect(try runner.collectGarbage(dryRun: false).items.isEmpty)
    let record = try #require(runner.recordedRuns().first { $0.name == "factor-2" })
    #expect(record.labels["parameters-digest"] == "two")
    #expect(record.parameters == ["factor": "2"])

    // An unknown name removes nothing and names the recorded runs.
    #expect {
      try runner.collectGarbage(dryRun: false, forgetting: ["factor-3"])
    } throws: { error in
      "\(error)".contains("factor-2, factor-5") && "\(error)".contains("nothing was removed")
    }
    #expect(FileManager.default.fileExists(atPath: onlyTwo.path))

    // A dry run attributes the entries to the run and keeps its record.
    let dry = try runner.collectGarbage(dryRun: true, forgetting: ["factor-2"])
    #expect(dry.forgottenRuns.map(\.record.name) == ["factor-2"])
    #expect(dry.forgottenRuns[0].entries.map(\.path.path) == [onlyTwo.path])
    #expect(dry.forgottenRuns[0].entries.first?.stageKind == "toy.scale")
    #expect(dry.unreferencedEntries.isEmpty)
    #expect(dry.keptRuns.map(\.name) == ["factor-5"])
    #expect(runner.recordedRuns().count == 2)

    // Forgetting removes only what no other run uses; a name given twice is forgotten once,
    // and the caller hears of each removed record while the lock is held.
    var removed: [String] = []
    let real = try runner.collectGarbage(dryRun: false, forgetting: ["factor-2", "factor-2"]) {
      removed.append($0)
    }
    #expect(removed == ["factor-2"])
    #expect(real.items.map(\.path.path) == [onlyTwo.path])
    #expect(!FileManager.default.fileExists(atPath: onlyTwo.path))
    #expect(FileManager.default.fileExists(atPath: shared.path))
    #expect(runner.recordedRuns().map(\.name) == ["factor-5"])
  }

  @Test func recordsWrittenBeforeLabelsDecodeWithNone() throws {
    let store = try ToyStore()
    let runner = try store.runner()
    try FileManager.default.createDirectory(
      at: runner.runsDirectory,
      withIntermediateDirectories: true
    )
    try Data(
      """
      {"name":"old","toolVersion":"0.1.0","finishedAt":"2026-11-01T00:00:00Z",
       "isComplete":true,"stages":{}}
      """.utf8
    ).write(to: runner.runsDirectory.appendingPathComponent("old.json"))
    let record = try #require(runner.recordedRuns().first)
    #expect(record.name == "old")
    #expect(record.labels.isEmpty && record.parameters.isEmpty && record.keys.isEmpty)
  }

  // MARK: - Failure and cancellation

  @Test func failingStageIsNamedAndUpstreamStaysCommitted() throws {
    let store = try ToyStore()
    let log = ExecutionLog()
    var graph = try ToyGraphs.chain(log: log)
    let failing: StageID = "toy/failing"
    try graph.add(
      StageNode(
        id: failing,
        stage: Blocking(parameters: .init(fails: true), started: DispatchSemaphore(value: 0)),
        inputs: ["data": .artifact(ToyGraphs.source, "data")]
      )
    )
    #expect {
      try store.runner().run(graph, recordAs: "main")
    } throws: { error in
      guard case PipelineError.stageFailed(let id, _) = error else { return false }
      return id == failing && "\(error)".contains("toy failure")
    }
    let status = try store.runner().status(graph)
    guard case .cached? = status[ToyGraphs.source] else {
      Issue.record(
        "upstream should stay committed, got \(String(describing: status[ToyGraphs.source]))"
      )
      return
    }
  }

  @Test func cancellationStopsTheRunWithoutCommittingPartialResults() throws {
    let store = try ToyStore()
    let started = DispatchSemaphore(value: 0)
    let blocking: StageID = "toy/blocking"
    let graph = try PipelineGraph([
      StageNode(id: blocking, stage: Blocking(parameters: .init(fails: false), started: started))
    ])
    let runner = try store.runner()
    DispatchQueue.global().async {
      started.wait()
      runner.cancel()
    }
    #expect {
      try runner.run(graph, recordAs: "main")
    } throws: { error in
      guard case PipelineError.cancelled(let interrupted) = error else { return false }
      return interrupted == [blocking]
    }
    guard case .willRun? = try store.runner().status(graph)[blocking] else {
      Issue.record("a cancelled stage must not be committed")
      return
    }
    #expect(store.contents(of: "tmp").isEmpty)
  }

  // MARK: - Helpers

  /// The id of a process that has exited (and been reaped).
  private static func deadProcessID() throws -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/true")
    try process.run()
    process.waitUntilExit()
    return process.processIdentifier
  }
}

/// Collects results from concurrent closures.
private final class Results: @unchecked Sendable {
  private let lock = NSLock()
  private var values: [[[String: ArtifactRecord]]] = []

  func append(_ value: [[String: ArtifactRecord]]) { lock.withLock { values.append(value) } }
  var all: [[[String: ArtifactRecord]]] { lock.withLock { values } }
}
