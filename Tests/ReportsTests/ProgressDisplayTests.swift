import Foundation
import Reports
import Synchronization
import Testing

/// A clock and writer the test controls.
final class FakeTerminal: Sendable {
  private let state = Mutex<(now: Duration, output: [String])>((.zero, []))

  var output: [String] { state.withLock { $0.output } }
  func advance(by seconds: Double) {
    state.withLock { $0.now += .milliseconds(Int(seconds * 1000)) }
  }
  func now() -> Duration { state.withLock { $0.now } }
  func write(_ text: String) { state.withLock { $0.output.append(text) } }

  func display(_ mode: ProgressDisplay.Mode) -> ProgressDisplay {
    ProgressDisplay(mode: mode, clock: { self.now() }, write: { self.write($0) })
  }
}

@Suite struct ProgressDisplayTests {
  @Test func etaCountsOnlyExecutedUnits() {
    let terminal = FakeTerminal()
    var progress = terminal.display(.off)
    // 50 cached units in a blink, then 2 executed units of 10 s each; 48 left.
    for unit in 1...50 {
      terminal.advance(by: 0.01)
      progress.record(.init(unitsDone: unit, unitsTotal: 100, label: "c", wasExecuted: false))
    }
    #expect(progress.estimatedSecondsRemaining(unitsDone: 50, unitsTotal: 100) == nil)
    for unit in 51...52 {
      terminal.advance(by: 10)
      progress.record(.init(unitsDone: unit, unitsTotal: 100, label: "e", wasExecuted: true))
    }
    let eta = progress.estimatedSecondsRemaining(unitsDone: 52, unitsTotal: 100)
    #expect(eta.map { abs($0 - 480) < 1e-6 } == true)
    #expect(terminal.output.isEmpty)
  }

  @Test func terminalModeRewritesOneLine() {
    let terminal = FakeTerminal()
    var progress = terminal.display(.terminal)
    terminal.advance(by: 62)
    progress.record(
      .init(unitsDone: 1, unitsTotal: 588, label: "bald.bayesian.r0 round 1/98", wasExecuted: true)
    )
    progress.finish()
    #expect(
      terminal.output == [
        "\r\u{1B}[K[  1/588 0.2%] bald.bayesian.r0 round 1/98 (executed) | elapsed 1m02s | ETA 10h06m | 1 executed, 0 cached",
        "\n",
      ]
    )
  }

  @Test func linesModePrintsAtRoundsNoMoreOftenThanTheInterval() {
    let terminal = FakeTerminal()
    var progress = terminal.display(.lines(minimumInterval: .seconds(5)))
    // Units every 2 s; rounds complete on even units; the last unit always prints.
    for unit in 1...10 {
      terminal.advance(by: 2)
      progress.record(
        .init(
          unitsDone: unit,
          unitsTotal: 10,
          label: "u\(unit)",
          wasExecuted: true,
          completesRound: unit.isMultiple(of: 2)
        )
      )
    }
    let labels = terminal.output.map {
      $0.components(separatedBy: "] ")[1].split(separator: " ")[0]
    }
    #expect(labels == ["u2", "u6", "u10"])
    #expect(terminal.output.allSatisfy { $0.hasSuffix("\n") && !$0.contains("\r") })
  }

  @Test func offModeIsSilent() {
    let terminal = FakeTerminal()
    var progress = terminal.display(.off)
    progress.record(.init(unitsDone: 1, unitsTotal: 1, label: "x", wasExecuted: true))
    progress.finish()
    #expect(terminal.output.isEmpty)
  }
}
