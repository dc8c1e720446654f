import Foundation
import HDF5Store
import PipelineCore
import Synchronization
import TestSupport

// MARK: - Recording helpers

/// Counts stage executions by stage id, across threads.
final class ExecutionLog: Sendable {
  private let counts = Mutex<[String: Int]>([:])

  func record(_ id: StageID) { counts.withLock { $0[id.rawValue, default: 0] += 1 } }
  func count(_ id: StageID) -> Int { counts.withLock { $0[id.rawValue, default: 0] } }
  var total: Int { counts.withLock { $0.values.reduce(0, +) } }
}

/// Keeps every event, for assertions.
final class RecordingObserver: PipelineObserver {
  private let events = Mutex<[PipelineEvent]>([])

  func pipeline(_ event: PipelineEvent) { events.withLock { $0.append(event) } }

  var warnings: [String] {
    events.withLock { $0.compactMap { if case .warning(let text) = $0 { text } else { nil } } }
  }

  var removedTemporaries: [URL] {
    events.withLock {
      $0.compactMap { if case .removedStaleTemporary(let url) = $0 { url } else { nil } }
    }
  }
}

// MARK: - Toy stages

/// Writes `values` = `offset + i` for `i` in `0..<count`; `label` does not affect the output
/// (it exercises early cutoff).
struct Source: Stage {
  struct Parameters: Codable, Sendable {
    var offset: Double
    var count: Int
    var label: String = "source"
  }
  static let kind = "toy.source"
  static let version = 1
  var parameters: Parameters
  var log: ExecutionLog
  var delay: Double = 0
  var outputs: [String] { ["data"] }

  func run(_ context: StageContext) throws {
    log.record(context.id)
    if delay > 0 { Thread.sleep(forTimeInterval: delay) }
    let values = (0..<parameters.count).map { Float(parameters.offset) + Float($0) }
    let file = try HDF5File.create(context.outputURL("data").path)
    try file.write(values, shape: [values.count], to: "values")
    try file.setAttribute("label", .string("toy"))
    try file.close()
  }
}

/// Multiplies the input's `values` by `factor`.
struct Scale: Stage {
  struct Parameters: Codable, Sendable { var factor: Double }
  static let kind = "toy.scale"
  static let version = 1
  var parameters: Parameters
  var log: ExecutionLog
  var outputs: [String] { ["scaled"] }

  func run(_ context: StageContext) throws {
    log.record(context.id)
    let input = try HDF5File.open(try context.inputURL("data").path, mode: .readOnly)
    let values = try input.read("values", as: Float.self)
    try input.close()
    let file = try HDF5File.create(context.outputURL("scaled").path)
    try file.write(
      values.values.map { $0 * Float(parameters.factor) },
      shape: values.shape,
      to: "values"
    )
    try file.write([Int64(values.values.count)], shape: [], to: "count")
    try file.close()
  }
}

/// Writes fresh random numbers on every run: deliberately non-deterministic.
struct Noisy: Stage {
  struct Parameters: Codable, Sendable { var count: Int }
  static let kind = "toy.noisy"
  static let version = 1
  var parameters: Parameters
  var outputs: [String] { ["noise"] }

  func run(_ context: StageContext) throws {
    var generator = SystemRandomNumberGenerator()
    let values = (0..<parameters.count).map { _ in Float.random(in: 0..<1, using: &generator) }
    let file = try HDF5File.create(context.outputURL("noise").path)
    try file.write(values, shape: [values.count], to: "values")
    try file.write([Int64(parameters.count)], shape: [], to: "count")
    try file.close()
  }
}

/// Waits until cancelled (signalling `started` first), then throws `CancellationError`; or
/// throws a plain error when `fails` is set.
struct Blocking: Stage {
  struct Parameters: Codable, Sendable { var fails: Bool }
  struct Failure: Error, CustomStringConvertible { var description: String { "toy failure" } }
  static let kind = "toy.blocking"
  static let version = 1
  var parameters: Parameters
  var started: DispatchSemaphore
  var outputs: [String] { ["never"] }

  func run(_ context: StageContext) throws {
    if parameters.fails { throw Failure() }
    started.signal()
    let file = try HDF5File.create(context.outputURL("never").path)
    try file.close()
    while true {
      try context.checkCancellation()
      Thread.sleep(forTimeInterval: 0.005)
    }
  }
}

// MARK: - Graph builders

enum ToyGraphs {
  static let source: StageID = "toy/source"
  static let scale: StageID = "toy/scale"

  /// `source -> scale`.
  static func chain(
    offset: Double = 1,
    label: String = "source",
    factor: Double = 2,
    seed: UInt64? = 7,
    log: ExecutionLog
  ) throws -> PipelineGraph {
    try PipelineGraph([
      StageNode(
        id: source,
        stage: Source(parameters: .init(offset: offset, count: 16, label: label), log: log),
        seed: seed
      ),
      StageNode(
        id: scale,
        stage: Scale(parameters: .init(factor: factor), log: log),
        inputs: ["data": .artifact(source, "data")]
      ),
    ])
  }

  /// `width` independent `source-i -> scale-i` chains of slow sources.
  static func wide(width: Int, log: ExecutionLog) throws -> PipelineGraph {
    var graph = PipelineGraph()
    for index in 0..<width {
      let source = StageID("wide/source-\(index)")
      try graph.add(
        StageNode(
          id: source,
          stage: Source(
            parameters: .init(offset: Double(index), count: 8),
            log: log,
            delay: 0.05
          )
        )
      )
      try graph.add(
        StageNode(
          id: StageID("wide/scale-\(index)"),
          stage: Scale(parameters: .init(factor: 3), log: log),
          inputs: ["data": .artifact(source, "data")]
        )
      )
    }
    return graph
  }
}

// MARK: - Store helpers

struct ToyStore {
  let directory: URL
  var cache: URL { directory.appendingPathComponent("cache") }

  init() throws {
    directory = try TestSupport.temporaryDirectory("pipeline-core")
  }

  func runner(
    jobs: Int = 1,
    settings: [String: String] = [:],
    observer: any PipelineObserver = SilentPipelineObserver()
  ) throws -> PipelineRunner {
    PipelineRunner(
      store: try ArtifactStore(root: cache),
      jobs: jobs,
      toolVersion: "test",
      settings: settings,
      observer: observer
    )
  }

  func contents(of subdirectory: String) -> [String] {
    (try? FileManager.default.contentsOfDirectory(
      atPath: cache.appendingPathComponent(subdirectory).path
    )) ?? []
  }
}
