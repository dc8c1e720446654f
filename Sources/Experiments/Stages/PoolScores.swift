import Foundation
import HDF5Store

/// The `scores` artifact of a score stage: the pool subset scored in one round and each
/// point's acquisition score.
///
/// Datasets `subset` (`[n]` training-set indices, ascending; never subset positions) and
/// `scores` (`[n]`, higher is more informative); attributes `function` and `model` name the
/// acquisition function and the uncertainty source.
public struct PoolScores: Sendable, Equatable {
  /// The scored training-set indices, ascending.
  public var subset: [Int]
  /// The score of each index of ``subset``.
  public var scores: [Double]
  /// The acquisition function's raw value.
  public var function: String
  /// The uncertainty source's raw value.
  public var model: String

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
    guard subset.count == scores.count else {
      throw ExperimentError.invalidArtifact(
        file: url.path,
        problem: "\(subset.count) indices but \(scores.count) scores"
      )
    }
  }
}
