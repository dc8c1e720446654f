import Acquisition
import Foundation
import Testing

/// NLL, Brier score and ECE (15 equal-width bins) pinned against values computed by hand.
@Suite struct CalibrationTests {
  private func close(_ a: Double, _ b: Double) -> Bool { abs(a - b) < 1e-9 }

  /// Two points, one pass, two classes, in different confidence bins.
  /// p1 = [0.7, 0.3], y = 0 (right, confidence 0.7, bin 10 = (10/15, 11/15]);
  /// p2 = [0.55, 0.45], y = 1 (wrong, confidence 0.55, bin 8 = (8/15, 9/15]).
  /// NLL = -(log 0.7 + log 0.45) / 2 = (0.356675 + 0.798508) / 2 = 0.577591.
  /// Brier = ((0.3^2 + 0.3^2) + (0.55^2 + 0.55^2)) / 2 = (0.18 + 0.605) / 2 = 0.3925.
  /// ECE = 1/2 |1 - 0.7| + 1/2 |0 - 0.55| = 0.15 + 0.275 = 0.425.
  @Test func twoPointsInTwoBins() {
    let p = MCProbabilities(passes: 1, points: 2, classes: 2, values: [0.7, 0.3, 0.55, 0.45])
    let m = Calibration.metrics(p, labels: [0, 1])
    // The probabilities are Float32, so the pins hold to about 1e-7.
    #expect(abs(m.negativeLogLikelihood - (-log(0.7) - log(0.45)) / 2) < 1e-6)
    #expect(abs(m.negativeLogLikelihood - 0.577591) < 1e-6)
    #expect(abs(m.brierScore - 0.3925) < 1e-7)
    #expect(abs(m.expectedCalibrationError - 0.425) < 1e-7)
  }

  /// Two points in one bin: p1 = [0.7, 0.3], y = 0; p2 = [0.72, 0.28], y = 1 (both in bin 10).
  /// Accuracy 1/2, mean confidence 0.71: ECE = 0.21.
  @Test func twoPointsInOneBin() {
    let mean = [0.7, 0.3, 0.72, 0.28]
    let ece = Calibration.expectedCalibrationError(mean: mean, classes: 2, labels: [0, 1])
    #expect(close(ece, 0.21))
  }

  /// The metrics use the mean over passes: [1, 0] and [0.4, 0.6] average to [0.7, 0.3].
  /// NLL = -log 0.7 = 0.356675; Brier = 0.09 + 0.09 = 0.18; ECE = |1 - 0.7| = 0.3.
  @Test func meanOverPasses() {
    let p = MCProbabilities(passes: 2, points: 1, classes: 2, values: [1, 0, 0.4, 0.6])
    let m = Calibration.metrics(p, labels: [0])
    #expect(abs(m.negativeLogLikelihood + log(0.7)) < 1e-7)
    #expect(abs(m.brierScore - 0.18) < 1e-7)
    #expect(abs(m.expectedCalibrationError - 0.3) < 1e-7)
  }

  /// A perfectly calibrated constructed case: ten points at confidence 0.8 of which eight are
  /// right, and four points at confidence 0.5 (three classes) of which two are right. Each bin's
  /// accuracy equals its mean confidence, so ECE = 0; the Brier score and NLL are not 0.
  @Test func perfectlyCalibratedHasZeroECE() {
    var mean: [Double] = []
    var labels: [Int] = []
    for n in 0..<10 {
      mean += [0.8, 0.2, 0]
      labels.append(n < 8 ? 0 : 1)
    }
    for n in 0..<4 {
      mean += [0.5, 0.3, 0.2]
      labels.append(n < 2 ? 0 : 2)
    }
    let ece = Calibration.expectedCalibrationError(mean: mean, classes: 3, labels: labels)
    #expect(abs(ece) < 1e-12)
    // Brier: 8 x (0.04 + 0.04) + 2 x (0.64 + 0.64) + 2 x (0.25 + 0.09 + 0.04)
    //        + 2 x (0.25 + 0.09 + 0.64) = 0.64 + 2.56 + 0.76 + 1.96 = 5.92, over 14 points.
    let brier = Calibration.brierScore(mean: mean, classes: 3, labels: labels)
    #expect(close(brier, 5.92 / 14))
  }

  /// A certain and right prediction is perfect on every metric; a true class at probability
  /// 0 costs -log(1e-12) in the NLL, not infinity, and 2 in the Brier score.
  @Test func certainPredictions() {
    let right = Calibration.metrics(
      MCProbabilities(passes: 1, points: 1, classes: 2, values: [1, 0]),
      labels: [0]
    )
    #expect(right == .init(negativeLogLikelihood: 0, brierScore: 0, expectedCalibrationError: 0))
    let wrong = Calibration.metrics(
      MCProbabilities(passes: 1, points: 1, classes: 2, values: [1, 0]),
      labels: [1]
    )
    #expect(close(wrong.negativeLogLikelihood, -log(1e-12)))
    #expect(close(wrong.brierScore, 2))
    #expect(close(wrong.expectedCalibrationError, 1))
  }

  /// The 15 bins are (b/15, (b+1)/15]: an upper edge belongs to its bin, 0 to the first.
  @Test func binEdges() {
    #expect(Calibration.binCount == 15)
    #expect(Calibration.bin(ofConfidence: 0) == 0)
    #expect(Calibration.bin(ofConfidence: 1.0 / 15) == 0)
    #expect(Calibration.bin(ofConfidence: 1.0 / 15 + 1e-9) == 1)
    #expect(Calibration.bin(ofConfidence: 0.5) == 7)
    #expect(Calibration.bin(ofConfidence: 1) == 14)
  }
}
