import Acquisition
import Foundation
import PipelineCore

/// Measures how well one round's test predictions are calibrated: negative log-likelihood,
/// Brier score and expected calibration error (15 equal-width confidence bins), for the MC
/// prediction and the deterministic one (see ``Calibration`` and ``CalibrationMetrics``).
///
/// A stage of its own, not more datasets of `evaluate`: adding them to the evaluate stage
/// would have meant bumping its version, which changes the cache key of every evaluation, so
/// that a long paper-profile run (18 cells x 101 rounds of T = 200 passes over the whole test
/// set) would recompute every accuracy it already has, and a report could not be rendered from
/// those entries until it had. This stage reads the round's cached `model` artifact(s) (every
/// member of an ensemble) and the test set, with the evaluate stage's parameters and seed, so
/// it sees bit for bit the predictions the round's accuracies came from (its artifact repeats
/// the accuracies as a check) and every existing evaluate entry stays valid; rounds without it
/// simply have no calibration yet. The deterministic CNN is the exception: its evaluation runs
/// only its dropout-off pass (``EvaluateStage`` with `mcSamples` = 0), while its calibration
/// keeps the T MC-dropout passes, so that its calibration figure compares both predictions.
public struct CalibrateStage: Stage {
  /// The stage kind, part of every cache key.
  public static let kind = "calibrate"
  /// Bumped whenever the stage's logic changes.
  public static let version = 1
  /// The semantic parameters: those of the round's evaluate stage (all enter the cache key).
  public var parameters: EvaluateStage.Parameters
  /// The HDF5 artifacts the stage writes.
  public var outputs: [String] { ["calibration"] }
  let resources: ExperimentResources

  /// Creates the stage.
  public init(parameters: EvaluateStage.Parameters, resources: ExperimentResources) {
    self.parameters = parameters
    self.resources = resources
  }

  /// Runs the stage; see the type's documentation.
  public func run(_ context: StageContext) throws {
    let evaluate = EvaluateStage(parameters: parameters, resources: resources)
    let (predicted, labels) = try evaluate.predictTestSet(context)
    let off = predicted.dropoutOff
    let mc = predicted.predictive
    try CalibrationMetrics(
      mc: Calibration.metrics(mc, labels: labels),
      deterministic: Calibration.metrics(off, labels: labels),
      accuracyMC: EvaluateStage.accuracy(
        mc.values,
        passes: mc.passes,
        labels: labels,
        classes: mc.classes
      ),
      accuracyDeterministic: EvaluateStage.accuracy(
        off.values,
        passes: off.passes,
        labels: labels,
        classes: off.classes
      ),
      testCount: labels.count
    ).write(to: context.outputURL("calibration"))
  }
}
