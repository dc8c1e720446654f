import Acquisition
import Foundation
import HDF5Store

/// The `calibration` artifact of a calibrate stage: how well one round's predictive
/// distributions on the test set are calibrated, scalars in an HDF5 file.
///
/// Datasets, each for the MC prediction (`_mc`: the mean of T MC-dropout passes, or of an
/// ensemble's samples as it scores the pool) and the deterministic one (`_deterministic`:
/// dropout off; for an ensemble the mean of its members' dropout-off predictions):
/// `nll_*` (mean negative log-likelihood, nats), `brier_*` (multi-class Brier score) and
/// `ece_*` (expected calibration error over `ece_bins` = 15 equal-width confidence bins); and
/// `accuracy_mc`, `accuracy_deterministic` and `test_count`, which equal the round's
/// evaluate metrics (the same predictions), as a check that both stages saw the same model.
/// The exception is the deterministic CNN, whose evaluation runs only its dropout-off pass:
/// its calibration still runs the T MC-dropout passes as a comparison, so only
/// `accuracy_deterministic` and `test_count` repeat its evaluation.
public struct CalibrationMetrics: Sendable, Equatable {
  /// Calibration of the MC (predictive-mean) prediction.
  public var mc: Calibration.Metrics
  /// Calibration of the deterministic (dropout-off) prediction.
  public var deterministic: Calibration.Metrics
  /// Accuracy of the MC prediction (equals the evaluate stage's `accuracy_mc`, except for the
  /// deterministic CNN, whose evaluation runs no MC passes).
  public var accuracyMC: Double
  /// Accuracy with dropout off (equals the evaluate stage's `accuracy_deterministic`).
  public var accuracyDeterministic: Double
  /// Test images used.
  public var testCount: Int
  /// The confidence bins of the ECE.
  public var eceBins: Int = Calibration.binCount

  /// Creates metrics from their values.
  public init(
    mc: Calibration.Metrics,
    deterministic: Calibration.Metrics,
    accuracyMC: Double,
    accuracyDeterministic: Double,
    testCount: Int
  ) {
    self.mc = mc
    self.deterministic = deterministic
    self.accuracyMC = accuracyMC
    self.accuracyDeterministic = accuracyDeterministic
    self.testCount = testCount
  }

  /// Writes the metrics (datasets in a fixed order, so equal metrics give equal files).
  public func write(to url: URL) throws {
    let file = try HDF5File.create(url.path)
    for (suffix, m) in [("mc", mc), ("deterministic", deterministic)] {
      try file.write([m.negativeLogLikelihood], shape: [], to: "nll_\(suffix)")
      try file.write([m.brierScore], shape: [], to: "brier_\(suffix)")
      try file.write([m.expectedCalibrationError], shape: [], to: "ece_\(suffix)")
    }
    try file.write([Int64(eceBins)], shape: [], to: "ece_bins")
    try file.write([accuracyMC], shape: [], to: "accuracy_mc")
    try file.write([accuracyDeterministic], shape: [], to: "accuracy_deterministic")
    try file.write([Int64(testCount)], shape: [], to: "test_count")
    try file.close()
  }

  /// Reads metrics written by ``write(to:)``.
  ///
  /// - Throws: HDF5 errors naming the file and dataset when one is missing or unreadable.
  public init(contentsOf url: URL) throws {
    let file = try HDF5File.open(url.path)
    defer { try? file.close() }
    func scalar(_ name: String) throws -> Double { try file.read(name, as: Double.self).values[0] }
    func metrics(_ suffix: String) throws -> Calibration.Metrics {
      Calibration.Metrics(
        negativeLogLikelihood: try scalar("nll_\(suffix)"),
        brierScore: try scalar("brier_\(suffix)"),
        expectedCalibrationError: try scalar("ece_\(suffix)")
      )
    }
    mc = try metrics("mc")
    deterministic = try metrics("deterministic")
    eceBins = Int(try file.read("ece_bins", as: Int64.self).values[0])
    accuracyMC = try scalar("accuracy_mc")
    accuracyDeterministic = try scalar("accuracy_deterministic")
    testCount = Int(try file.read("test_count", as: Int64.self).values[0])
  }
}
