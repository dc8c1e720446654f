import Foundation
import HDF5Store

/// The state of one active-learning cell between rounds: which training images are labelled,
/// which are held out for validation, and which form the unlabelled pool. Indices refer to the
/// 60,000 MNIST training images (never to a scored subset).
public struct LabelledSet: Sendable, Equatable {
  /// Labelled training indices, in the order they were labelled.
  public var labelled: [Int]
  /// Unlabelled pool indices, ascending.
  public var pool: [Int]
  /// Validation indices, never acquired.
  public var validation: [Int]
  /// Training indices in none of the sets (a `pool-size` smaller than the remaining images);
  /// stored only when not empty.
  public var unused: [Int] = []
  /// Indices acquired in the round that produced this set (empty for the initial split).
  public var acquired: [Int] = []
  /// The scores of ``acquired``, in the same order.
  public var acquiredScores: [Double] = []

  /// Checks the bookkeeping invariants: no duplicates, labelled / pool / validation disjoint
  /// and together covering `0..<trainingCount`.
  public func validate(trainingCount: Int, file: String) throws {
    var seen = [Bool](repeating: false, count: trainingCount)
    for index in labelled + pool + validation + unused {
      guard index >= 0 && index < trainingCount else {
        throw ExperimentError.invalidArtifact(
          file: file,
          problem: "index \(index) outside 0..<\(trainingCount)"
        )
      }
      guard !seen[index] else {
        throw ExperimentError.invalidArtifact(
          file: file,
          problem: "index \(index) appears twice in labelled/pool/validation/unused"
        )
      }
      seen[index] = true
    }
    guard seen.allSatisfy({ $0 }) else {
      throw ExperimentError.invalidArtifact(
        file: file,
        problem: "labelled, pool, validation and unused do not cover all training images"
      )
    }
  }

  /// Writes the set as an HDF5 artifact.
  public func write(to url: URL) throws {
    let file = try HDF5File.create(url.path)
    try file.write(labelled.map(Int64.init), shape: [labelled.count], to: "labelled")
    try file.write(pool.map(Int64.init), shape: [pool.count], to: "pool")
    try file.write(validation.map(Int64.init), shape: [validation.count], to: "validation")
    if !unused.isEmpty {
      try file.write(unused.map(Int64.init), shape: [unused.count], to: "unused")
    }
    if !acquired.isEmpty {
      try file.write(acquired.map(Int64.init), shape: [acquired.count], to: "acquired")
      try file.write(acquiredScores, shape: [acquiredScores.count], to: "acquired_scores")
    }
    try file.close()
  }

  /// Reads a set written by ``write(to:)``.
  public init(contentsOf url: URL) throws {
    let file = try HDF5File.open(url.path)
    defer { try? file.close() }
    func indices(_ name: String) throws -> [Int] {
      try file.read(name, as: Int64.self).values.map { Int($0) }
    }
    labelled = try indices("labelled")
    pool = try indices("pool")
    validation = try indices("validation")
    if file.exists("unused") { unused = try indices("unused") }
    if file.exists("acquired") {
      acquired = try indices("acquired")
      acquiredScores = try file.read("acquired_scores", as: Double.self).values
    }
  }

  /// Creates a set from its parts.
  public init(
    labelled: [Int],
    pool: [Int],
    validation: [Int],
    unused: [Int] = [],
    acquired: [Int] = [],
    acquiredScores: [Double] = []
  ) {
    self.unused = unused
    self.labelled = labelled
    self.pool = pool
    self.validation = validation
    self.acquired = acquired
    self.acquiredScores = acquiredScores
  }
}
