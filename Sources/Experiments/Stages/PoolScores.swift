import Foundation
import HDF5Store

/// The `scores` artifact of a score stage: the pool subset scored in one round and each
/// point's acquisition score.
///
/// Datasets `subset` (`[n]` training-set indices, ascending; never subset positions) and
/// `scores` (`[n]`, higher is more informative); attributes `function` and `model` name the
/// acquisition function and the uncertainty source. A function that chooses its batch jointly
/// (BatchBALD) adds `batch` (`[b]` training-set indices in the order chosen) and `batch_gains`
/// (`[b]`, each point's gain in mutual information when chosen, nats).
public struct PoolScores: Sendable, Equatable {
  /// The scored training-set indices, ascending.
  public var subset: [Int]
  /// The score of each index of ``subset``.
  public var scores: [Double]
  /// The acquisition function's raw value.
  public var function: String
  /// The uncertainty source's raw value.
  public var model: String
  /// The batch chosen jointly (training-set indices, in order), or nil: take the top scores.
  public var batch: [Int]?
  /// The gain of each point of ``batch`` when it was chosen.
  public var batchGains: [Double]?

  /// Creates scores from their values.
  public init(subset: [Int], scores: [Double], function: String, model: String) {
    self.subset = subset
    self.scores = scores
    self.function = function
    self.model = model
  }

  /// Writes the scores.
  public func write(to url: URL) throws {
    let file = try HDF5File.create(url.path)
    try file.write(subset.map(Int64.init), shape: [subset.count], to: "subset")
    try file.write(scores, shape: [scores.count], to: "scores")
    try file.setAttribute("function", .string(function))
    try file.setAttribute("model", .string(model))
    if let batch, let batchGains {
      try file.write(batch.map(Int64.init), shape: [batch.count], to: "batch")
      try file.write(batchGains, shape: [batchGains.count], to: "batch_gains")
    }
    try file.close()
  }

  /// Reads scores written by ``write(to:)``.
  ///
  /// - Throws: ``ExperimentError/invalidArtifact(file:problem:)`` when the subset and the scores
  ///   differ in length; HDF5 errors naming the file and dataset otherwise.
  public init(contentsOf url: URL) throws {
    let file = try HDF5File.open(url.path)
    defer { try? file.close() }
    subset = try file.read("subset", as: Int64.self).values.map { Int($0) }
    scores = try file.read("scores", as: Double.self).values
    func text(_ name: String) -> String {
      if case .string(let value)? = try? file.attribute(name) { return value }
      return ""
    }
    function = text("function")
    model = text("model")
    if file.exists("batch") {
      batch = try file.read("batch", as: Int64.self).values.map { Int($0) }
      batchGains = try file.read("batch_gains", as: Double.self).values
      guard batch?.count == batchGains?.count else {
        throw ExperimentError.invalidArtifact(
          file: url.path,
          problem: "\(batch?.count ?? 0) batch indices but \(batchGains?.count ?? 0) gains"
        )
      }
    }
    guard subset.count == scores.count else {
      throw ExperimentError.invalidArtifact(
        file: url.path,
        problem: "\(subset.count) indices but \(scores.count) scores"
      )
    }
  }
}
