import Foundation

/// Shows the progress of a long `pipeline` run: units (stage completions) done out of the
/// total, the current label, elapsed time and an estimate of the time left.
///
/// The estimate counts only units that were actually executed: cached units finish almost
/// instantly and would otherwise make a resumed run look nearly done. Time comes from an
/// injected clock and output goes to an injected writer, so the display is a pure function of
/// its updates and clock readings, and testable.
///
/// ```swift
/// var progress = ProgressDisplay.standardError(mode: quiet ? .off : .terminal)
/// progress.record(.init(unitsDone: 1, unitsTotal: 588, label: "bald.bayesian.r0 round 1/98",
///                       wasExecuted: true, completesRound: true))
/// progress.finish()
/// ```
public struct ProgressDisplay {
  /// How progress is shown.
  public enum Mode: Sendable, Equatable {
    /// One line rewritten in place (`\r` plus clear-to-end-of-line), for interactive terminals.
    case terminal
    /// Plain lines for logs and CI: one when a round completes, at most one per
    /// `minimumInterval`, plus the final unit.
    case lines(minimumInterval: Duration)
    /// Nothing (`--quiet`).
    case off

    /// ``lines(minimumInterval:)`` with a five-second interval.
    public static let lines = Mode.lines(minimumInterval: .seconds(5))
  }

  /// One finished unit of work.
  public struct Update: Sendable, Equatable {
    /// Units finished so far, this one included.
    public var unitsDone: Int
    /// Units in the whole run.
    public var unitsTotal: Int
    /// What finished, for example `bald.bayesian.r0 round 12/98`.
    public var label: String
    /// Whether the unit was computed (true) or read from the cache (false).
    public var wasExecuted: Bool
    /// Whether the unit finishes an active-learning round (the points where `.lines` mode may
    /// print).
    public var completesRound: Bool
    /// The caller's estimate of the seconds left (a cost model of what remains); nil falls
    /// back to the mean time per executed unit.
    public var estimatedSecondsRemaining: Double?

    /// Creates an update.
    public init(
      unitsDone: Int,
      unitsTotal: Int,
      label: String,
      wasExecuted: Bool,
      completesRound: Bool = true,
      estimatedSecondsRemaining: Double? = nil
    ) {
      self.estimatedSecondsRemaining = estimatedSecondsRemaining
      self.unitsDone = unitsDone
      self.unitsTotal = unitsTotal
      self.label = label
      self.wasExecuted = wasExecuted
      self.completesRound = completesRound
    }
  }

  private let mode: Mode
  private let clock: @Sendable () -> Duration
  private let write: @Sendable (String) -> Void
  private let start: Duration
  private var lastUpdate: Duration
  private var lastLine: Duration?
  private var executedUnits = 0
  private var cachedUnits = 0
  private var executedTime = Duration.zero
  private var wroteTerminalLine = false

  /// Creates a display.
  ///
  /// - Parameters:
  ///   - mode: How to show progress.
  ///   - clock: Monotonic time since any fixed origin; read once now to start the elapsed
  ///     time, and once per update.
  ///   - write: Receives the text to print (including `\r`, escapes and newlines).
  public init(
    mode: Mode,
    clock: @escaping @Sendable () -> Duration,
    write: @escaping @Sendable (String) -> Void
  ) {
    self.mode = mode
    self.clock = clock
    self.write = write
    start = clock()
    lastUpdate = start
  }

  /// A display on standard error timed by the system's monotonic clock.
  public static func standardError(mode: Mode) -> ProgressDisplay {
    let origin = ContinuousClock.now
    return ProgressDisplay(
      mode: mode,
      clock: { ContinuousClock.now - origin },
      write: { text in FileHandle.standardError.write(Data(text.utf8)) }
    )
  }

  // MARK: - Updates

  /// Records a finished unit and prints according to the mode.
  public mutating func record(_ update: Update) {
    let now = clock()
    if update.wasExecuted {
      executedUnits += 1
      executedTime += now - lastUpdate
    } else {
      cachedUnits += 1
    }
    lastUpdate = now
    switch mode {
    case .off:
      return
    case .terminal:
      write("\r\u{1B}[K" + line(for: update, now: now))
      wroteTerminalLine = true
    case .lines(let minimumInterval):
      let isLast = update.unitsDone >= update.unitsTotal
      let intervalPassed = lastLine.map { now - $0 >= minimumInterval } ?? true
      guard isLast || (update.completesRound && intervalPassed) else { return }
      write(line(for: update, now: now) + "\n")
      lastLine = now
    }
  }

  /// Redraws the terminal line of `update` without counting a unit (to show a running stage
  /// and keep the elapsed time and ETA moving while a long stage runs).
  public mutating func refresh(_ update: Update) {
    guard mode == .terminal else { return }
    write("\r\u{1B}[K" + line(for: update, now: clock()))
    wroteTerminalLine = true
  }

  /// Ends the terminal line so later output starts on a fresh line.
  public mutating func finish() {
    if mode == .terminal && wroteTerminalLine {
      write("\n")
      wroteTerminalLine = false
    }
  }

  /// The estimated seconds left: mean time per executed unit times the units left, or nil
  /// before any unit was executed.
  public func estimatedSecondsRemaining(unitsDone: Int, unitsTotal: Int) -> Double? {
    guard executedUnits > 0 else { return nil }
    let perUnit = Self.seconds(executedTime) / Double(executedUnits)
    return perUnit * Double(max(unitsTotal - unitsDone, 0))
  }

  // MARK: - Formatting

  private func line(for update: Update, now: Duration) -> String {
    let width = String(update.unitsTotal).count
    let done = String(update.unitsDone)
    let padded = String(repeating: " ", count: max(width - done.count, 0)) + done
    let percent =
      update.unitsTotal > 0
      ? TextFormatting.fixed(100 * Double(update.unitsDone) / Double(update.unitsTotal), digits: 1)
      : "0.0"
    let eta =
      (update.estimatedSecondsRemaining
      ?? estimatedSecondsRemaining(unitsDone: update.unitsDone, unitsTotal: update.unitsTotal))
      .map(TextFormatting.compactDuration) ?? "--"
    return "[\(padded)/\(update.unitsTotal) \(percent)%] \(update.label)"
      + " (\(update.wasExecuted ? "executed" : "cached"))"
      + " | elapsed \(TextFormatting.compactDuration(Self.seconds(now - start)))"
      + " | ETA \(eta) | \(executedUnits) executed, \(cachedUnits) cached"
  }

  private static func seconds(_ duration: Duration) -> Double {
    let parts = duration.components
    return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
  }
}
