import Acquisition
import Foundation
import HDF5Store
import NeuralEngine
import PipelineCore

/// Takes the top-K scored pool points (ties broken by a seeded draw), or the batch the score
/// stage chose jointly (BatchBALD) with its gains as scores, moves them from the pool to the
/// labelled set, and writes the next round's labelled set.
public struct AcquireStage: Stage {
  /// The acquisition's semantic parameters.
  public struct Parameters: Codable, Sendable, Hashable {
    /// Points acquired (K).
    public var count: Int
  }

  /// The stage kind, part of every cache key.
  public static let kind = "acquire"
  /// Bumped whenever the stage\'s logic changes.
  public static let version = 1
  /// The semantic parameters (all enter the cache key).
  public var parameters: Parameters
  /// The HDF5 artifacts the stage writes.
  public var outputs: [String] { ["labelled"] }

  /// Creates the stage.
  public init(parameters: Parameters) { self.parameters = parameters }

  /// Runs the stage; see the type\'s documentation.
  public func run(_ context: StageContext) throws {
    let previous = try LabelledSet(contentsOf: context.inputURL("labelled"))
    let scoresURL = try context.inputURL("scores")
    let scored = try PoolScores(contentsOf: scoresURL)
    let next = try Self.acquire(
      from: previous,
      subset: scored.subset,
      scores: scored.scores,
      count: parameters.count,
      seed: context.seed ?? 0,
      file: scoresURL.path,
      batch: scored.batch.map { ($0, scored.batchGains ?? []) }
    )
    try next.write(to: context.outputURL("labelled"))
  }

  /// Moves the top `count` of `subset` (by `scores`) from the pool to the labelled set.
  static func acquire(
    from previous: LabelledSet,
    subset: [Int],
    scores: [Double],
    count: Int,
    seed: UInt64,
    file: String,
    batch: (indices: [Int], gains: [Double])? = nil
  ) throws -> LabelledSet {
    let inPool = Set(previous.pool)
    guard subset.allSatisfy(inPool.contains) else {
      throw ExperimentError.invalidArtifact(file: file, problem: "scored points outside the pool")
    }
    let acquired: [Int]
    let acquiredScores: [Double]
    if let batch {
      let expected = min(count, subset.count)
      guard batch.indices.count == expected, Set(batch.indices).count == expected,
        batch.indices.allSatisfy(Set(subset).contains)
      else {
        throw ExperimentError.invalidArtifact(
          file: file,
          problem: "its batch of \(batch.indices.count) is not \(expected) distinct scored points "
            + "(acquire-count \(count))"
        )
      }
      (acquired, acquiredScores) = (batch.indices, batch.gains)
    } else {
      var generator = SeededGenerator(seed: seed)
      let picked = Selection.topK(scores, count: min(count, subset.count), using: &generator)
      acquired = picked.map { subset[$0] }  // pool indices, not subset positions
      acquiredScores = picked.map { scores[$0] }
    }
    let acquiredSet = Set(acquired)
    return LabelledSet(
      labelled: previous.labelled + acquired,
      pool: previous.pool.filter { !acquiredSet.contains($0) },
      validation: previous.validation,
      unused: previous.unused,
      acquired: acquired,
      acquiredScores: acquiredScores
    )
  }
}
