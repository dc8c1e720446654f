import Notebook
import TestSupport
import Testing

@testable import Reports

@Suite struct FormattingTests {
  @Test(arguments: [
    (0.57, 0.55, [0.6, 0.7, 0.8, 0.9, 1.0]),
    (0.83, 0.80, [0.80, 0.85, 0.90, 0.95, 1.0]),
    (0.12, 0.10, [0.2, 0.4, 0.6, 0.8, 1.0]),
    (1.0, 0.95, [0.95, 1.0]),
  ])
  func accuracyAxisStartsAtTheMinimumRoundedDown(minimum: Double, lower: Double, ticks: [Double]) {
    let scale = AxisScale.accuracy(minimum: minimum)
    #expect(isClose(scale.lower, lower) && scale.upper == 1)
    #expect(firstMismatch(scale.ticks, ticks) == nil)
  }

  @Test(arguments: [(980, 1000.0, 200.0), (98, 100, 20), (290, 300, 100), (3, 3, 1)])
  func acquiredAxisEndsOnANiceTick(maximum: Int, upper: Double, step: Double) {
    let scale = AxisScale.acquired(maximum: maximum)
    #expect(scale.upper == upper)
    #expect(scale.ticks.count >= 2 && scale.ticks[1] - scale.ticks[0] == step)
  }

  @Test func standardDeviationBandIsClampedToAccuracyRange() {
    let runs = [0.98, 1.0].enumerated().map { index, accuracy in
      CurveRun(
        repetition: index,
        points: [
          CurvePoint(acquired: 0, labelled: 20, accuracyMC: accuracy, accuracyDeterministic: 0)
        ]
      )
    }
    let series = CurveSeries(label: "s", configuration: "c", color: .bayesian, runs: runs)
    let summary = CurveSummary(series, band: .standardDeviation)
    #expect(
      isClose(summary.mean[0], 0.99) && isClose(summary.lower[0], 0.98) && summary.upper[0] == 1
    )
  }

  @Test func numbersAndDurationsAreFixed() {
    #expect(TextFormatting.fixed(-0.0001, digits: 2) == "0.00")
    #expect(TextFormatting.fixed(2.345, digits: 1) == "2.3")
    #expect(TextFormatting.duration(42) == "42.0 s")
    #expect(TextFormatting.duration(725) == "12 min 05 s")
    #expect(TextFormatting.duration(11_220) == "3 h 07 min")
    #expect(TextFormatting.bytes(134_217_728 * 1024) == "128.0 GiB")
    #expect(TextFormatting.csvField("a,b\"c") == "\"a,b\"\"c\"")
  }

  @Test func systemInfoReadsProcFiles() {
    let cpu = "processor\t: 0\nmodel name\t: AMD EPYC 7R13 Processor\nflags\t: fpu\n"
    #expect(SystemInfo.cpuModel(fromCPUInfo: cpu) == "AMD EPYC 7R13 Processor")
    #expect(
      SystemInfo.memoryBytes(fromMemInfo: "MemTotal:       16384 kB\nMemFree: 1 kB\n") == 16_777_216
    )
    let current = SystemInfo.current()
    #expect(current.cores >= 1 && current.memoryBytes > 0 && !current.cpuModel.isEmpty)
  }
}
