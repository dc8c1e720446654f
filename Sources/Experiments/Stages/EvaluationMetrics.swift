import Foundation
import HDF5Store

/// The `metrics` artifact of an evaluate stage: test accuracies of one round's network (or
/// ensemble), scalars in an HDF5 file.
///
/// Datasets: `accuracy_deterministic` and `accuracy_mc` (in [0, 1]), `test_count` (images
/// evaluated), and where recorded `weight_decay` (the c the model was trained with); for a deep
/// ensemble also `accuracy_members` (`[M]`, each member dropout off), `accuracy_members_mean`
/// and `ensemble_size`.
public struct EvaluationMetrics: Sendable, Equatable {
  /// Accuracy with dropout off (for an ensemble: of the members' mean dropout-off prediction).
  public var accuracyDeterministic: Double
  /// Accuracy of the MC-dropout predictive mean (for an ensemble: of its predictive mean as it
  /// scores the pool; for the deterministic CNN, a point mass, of its dropout-off pass, the
  /// same as ``accuracyDeterministic``).
  public var accuracyMC: Double
  /// Test images evaluated.
  public var testCount: Int
  /// The weight-decay constant c of the evaluated model, where recorded.
  public var weightDecay: Double?
  /// Each ensemble member's dropout-off accuracy; empty for one network.
  public var memberAccuracies: [Double] = []

  /// Writes the metrics (datasets in a fixed order, so equal metrics give equal files).
  public func write(to url: URL) throws {
    let file = try HDF5File.create(url.path)
    try file.write([accuracyDeterministic], shape: [], to: "accuracy_deterministic")
    try file.write([accuracyMC], shape: [], to: "accuracy_mc")
    if !memberAccuracies.isEmpty {
      let mean = memberAccuracies.reduce(0, +) / Double(memberAccuracies.count)
      try file.write([mean], shape: [], to: "accuracy_members_mean")
      try file.write(memberAccuracies, shape: [memberAccuracies.count], to: "accuracy_members")
      try file.write([Int64(memberAccuracies.count)], shape: [], to: "ensemble_size")
    }
    try file.write([Int64(testCount)], shape: [], to: "test_count")
    if let weightDecay { try file.write([weightDecay], shape: [], to: "weight_decay") }
    try file.close()
  }

  /// Reads metrics written by ``write(to:)``.
  ///
  /// - Throws: HDF5 errors naming the file and dataset when one is missing or unreadable.
  public init(contentsOf url: URL) throws {
    let file = try HDF5File.open(url.path)
    defer { try? file.close() }
    accuracyDeterministic = try file.read("accuracy_deterministic", as: Double.self).values[0]
    accuracyMC = try file.read("accuracy_mc", as: Double.self).values[0]
    testCount = Int(try file.read("test_count", as: Int64.self).values[0])
    weightDecay =
      file.exists("weight_decay") ? try file.read("weight_decay", as: Double.self).values[0] : nil
    memberAccuracies =
      file.exists("accuracy_members")
      ? try file.read("accuracy_members", as: Double.self).values : []
  }

  /// Creates metrics from their values.
  public init(
    accuracyDeterministic: Double,
    accuracyMC: Double,
    testCount: Int,
    weightDecay: Double? = nil,
    memberAccuracies: [Double] = []
  ) {
    self.accuracyDeterministic = accuracyDeterministic
    self.accuracyMC = accuracyMC
    self.testCount = testCount
    self.weightDecay = weightDecay
    self.memberAccuracies = memberAccuracies
  }
}
