/// A unit of work in the pipeline: a value type declaring its kind, version, parameters and
/// outputs, plus the logic that produces those outputs.
///
/// The engine, not the stage, decides whether a stage runs: it derives a cache key from the
/// stage's ``kind``, ``version``, ``parameters``, the content digests of its inputs and its seed,
/// and runs ``run(_:)`` only when no committed result exists for that key. Adding a new kind of
/// stage is adding one conforming type; the engine never switches on kinds.
///
/// ```swift
/// struct Train: Stage {
///   struct Parameters: Codable, Sendable { var epochs: Int; var learningRate: Double }
///   static let kind = "train"
///   static let version = 1
///   var parameters: Parameters
///   var outputs: [String] { ["model"] }
///   func run(_ context: StageContext) throws {
///     let data = try context.inputURL("data")
///     // ... write context.outputURL("model") with HDF5Store ...
///   }
/// }
/// ```
public protocol Stage: Sendable {
  /// The semantic parameters of the stage, all of which enter the cache key.
  ///
  /// They must encode as a keyed container (a struct or a dictionary with string keys), so that
  /// `status` can report changes parameter by parameter. Keep non-semantic values (paths, thread
  /// counts, log levels) out of it; pass those through ``PipelineRunner`` settings instead.
  /// Avoid `Set` and dictionaries with non-string keys: their encoding order is not stable.
  associatedtype Parameters: Codable & Sendable

  /// A short, stable name of the stage's logic, such as `"train"`; part of the cache key.
  static var kind: String { get }

  /// The version of the stage's logic; bump it whenever the logic changes so that cached
  /// results made by the old logic are no longer reused.
  static var version: Int { get }

  /// The semantic parameters of this instance.
  var parameters: Parameters { get }

  /// The names of the HDF5 artifacts the stage writes, each to ``StageContext/outputURL(_:)``.
  var outputs: [String] { get }

  /// Runs the stage: reads inputs through `context`, writes every declared output.
  ///
  /// Runs on a worker thread, possibly next to other stages. Throw `CancellationError` when
  /// ``StageContext/isCancelled`` becomes true during long work.
  func run(_ context: StageContext) throws
}
