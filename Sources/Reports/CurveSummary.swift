import Foundation
import Notebook

/// The mean line and band of one series: per number of acquired images, the mean accuracy
/// over the repetitions that reached it and the band's bounds (clamped to [0, 1]).
struct CurveSummary {
  var acquired: [Int] = []
  var mean: [Double] = []
  var lower: [Double] = []
  var upper: [Double] = []

  /// Summarises `series` for its metric; x values missing from some runs (a partial report)
  /// use the runs that have them.
  init(_ series: CurveSeries, band: UncertaintyBand, quantity: FigureQuantity = .accuracy) {
    var valuesByAcquired: [Int: [Double]] = [:]
    for run in series.runs {
      for point in run.points {
        guard let value = point.value(quantity, series.metric) else { continue }
        valuesByAcquired[point.acquired, default: []].append(value)
      }
    }
    for acquired in valuesByAcquired.keys.sorted() {
      let values = valuesByAcquired[acquired]!
      let mean = values.reduce(0, +) / Double(values.count)
      let (low, high): (Double, Double)
      switch band {
      case .minMax:
        (low, high) = (values.min()!, values.max()!)
      case .standardDeviation:
        let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count)
        (low, high) = (mean - variance.squareRoot(), mean + variance.squareRoot())
      }
      self.acquired.append(acquired)
      self.mean.append(mean)
      self.lower.append(min(max(low, 0), 1))
      self.upper.append(min(max(high, 0), 1))
    }
  }

  var isEmpty: Bool { acquired.isEmpty }
}

/// A linear axis with "nice" ticks.
struct AxisScale {
  var lower: Double
  var upper: Double
  var ticks: [Double]

  /// The x axis: from 0 to the largest acquired count rounded up to a 1-2-5 tick step.
  static func acquired(maximum: Int) -> AxisScale {
    guard maximum > 0 else { return AxisScale(lower: 0, upper: 10, ticks: [0, 5, 10]) }
    let step = niceStep(Double(maximum) / 5)
    let upper = (Double(maximum) / step).rounded(.up) * step
    let count = Int((upper / step).rounded())
    return AxisScale(lower: 0, upper: upper, ticks: (0...count).map { Double($0) * step })
  }

  /// The y axis: from the lowest value rounded down to a multiple of 0.05, up to 1.
  static func accuracy(minimum: Double?) -> AxisScale {
    // Work in twentieths (0.05) as integers so ticks do not drift.
    let lowerTwentieths = minimum.map { max(0, Int(($0 * 20 + 1e-9).rounded(.down))) } ?? 0
    let low = min(lowerTwentieths, 19)
    let span = 20 - low
    let stepTwentieths = span <= 6 ? 1 : span <= 12 ? 2 : 4
    let first = (low + stepTwentieths - 1) / stepTwentieths * stepTwentieths
    let ticks = stride(from: first, through: 20, by: stepTwentieths).map { Double($0) / 20 }
    return AxisScale(lower: Double(low) / 20, upper: 1, ticks: ticks)
  }

  /// The smallest of 1, 2, 2.5, 5 or 10 times a power of ten that is at least `raw` (and at
  /// least 1, since the axis counts images).
  /// From 0 to a round value above `maximum` (at most 1), five or so ticks: for quantities
  /// such as a calibration error, whose lines lie near 0.
  static func fromZero(maximum: Double?) -> AxisScale {
    let top = min(max(maximum ?? 0, 0.01), 1)
    // Hundredths as integers, so ticks do not drift.
    let hundredths = Int((top * 100 - 1e-9).rounded(.up))
    let step = [1, 2, 5, 10, 20, 25].first { hundredths <= $0 * 5 } ?? 25
    let upper = (hundredths + step - 1) / step * step
    let ticks = stride(from: 0, through: upper, by: step).map { Double($0) / 100 }
    return AxisScale(lower: 0, upper: Double(upper) / 100, ticks: ticks)
  }

  static func niceStep(_ raw: Double) -> Double {
    let target = max(raw, 1)
    let magnitude = pow(10, log10(target).rounded(.down))
    return [1, 2, 2.5, 5, 10].map { $0 * magnitude }.first { $0 >= target - 1e-9 } ?? target
  }

  /// Maps `value` from the axis range onto `[start, end]` (end may be less than start).
  func position(_ value: Double, from start: Double, to end: Double) -> Double {
    start + (value - lower) / (upper - lower) * (end - start)
  }
}
