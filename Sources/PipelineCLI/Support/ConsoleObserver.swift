import Experiments
import Foundation
import PipelineCore
import Reports
import Synchronization

/// Shows a run on the console: progress per cell and round (one updating line on a terminal,
/// plain lines otherwise, nothing with `--quiet`), warnings and waits always on stderr.
final class ConsoleObserver: PipelineObserver {
  private struct State {
    var display: ProgressDisplay
    var done = 0
    var executedRounds: [String: [Int]] = [:]
    var executedStages = 0
    var model: RemainingTimeModel?
    var finished: Set<StageID> = []
    var running: [StageID: ContinuousClock.Instant] = [:]
    var last: ProgressDisplay.Update?
  }

  private let state: Mutex<State>
  private let total: Int
  private let rounds: Int
  private let quiet: Bool
  private let showProgress: Bool
  private let groups: [StageID: (group: String?, round: Int?)]
  private let cachedDuration: @Sendable (String) -> Double?
  private let parallelism: Int
  // Set once in init; DispatchSource is thread-safe for cancel.
  nonisolated(unsafe) private let timer: (any DispatchSourceTimer)?

  /// - Parameters:
  ///   - cachedDuration: the recorded duration of a cache entry by key (from its manifest),
  ///     which calibrates the estimate of what remains from earlier runs too.
  ///   - parallelism: stages that run at once (`--jobs`).
  init(
    quiet: Bool,
    showProgress: Bool,
    plan: ExperimentPlan?,
    parallelism: Int = 1,
    cachedDuration: @escaping @Sendable (String) -> Double? = { _ in nil }
  ) {
    self.quiet = quiet
    self.showProgress = showProgress && !quiet
    let mode: ProgressDisplay.Mode =
      (quiet || !showProgress) ? .off : (isatty(STDERR_FILENO) == 1 ? .terminal : .lines)
    state = Mutex(
      State(display: .standardError(mode: mode), model: plan.map(RemainingTimeModel.init))
    )
    self.cachedDuration = cachedDuration
    self.parallelism = max(1, parallelism)
    // On a terminal, redraw every 2 s so the running stage, elapsed time and ETA move.
    timer = mode == .terminal ? DispatchSource.makeTimerSource(queue: .global()) : nil
    total = plan?.graph.nodes.count ?? 0
    rounds = plan?.profile.parameters.rounds ?? 0
    var groups: [StageID: (String?, Int?)] = [:]
    for node in plan?.graph.nodes ?? [] { groups[node.id] = (node.group, node.round) }
    self.groups = groups
    if let timer {
      timer.schedule(deadline: .now() + 2, repeating: 2)
      timer.setEventHandler { [weak self] in self?.refresh() }
      timer.resume()
    }
  }

  deinit { timer?.cancel() }

  /// Rounds whose evaluation ran (not reused) in this process, per cell.
  var executedRounds: [String: [Int]] { state.withLock { $0.executedRounds } }
  /// Stages executed in this process.
  var executedStages: Int { state.withLock { $0.executedStages } }

  func pipeline(_ event: PipelineEvent) {
    switch event {
    case .stageCached(let id, let key):
      let seconds = cachedDuration(key)
      state.withLock { state in
        if let seconds { state.model?.observe(id, seconds: seconds) }
      }
      advance(id, executed: false)
    case .stageFinished(let id, _, let seconds):
      state.withLock { $0.model?.observe(id, seconds: seconds) }
      advance(id, executed: true)
    case .stageStarted(let id, _):
      state.withLock { $0.running[id] = .now }
    case .warning(let message):
      emit("warning: \(message)")
    case .waiting(let id):
      emit("waiting for \(id): another process is computing it")
    case .waitingForLock(let message):
      emit(message)
    case .stageFailed:
      break  // the command prints the error once, as it exits
    case .removedStaleTemporary(let url):
      if !quiet {
        emit("removed temporary files left by an interrupted run: \(url.lastPathComponent)")
      }
    case .stageLog, .progress:
      break
    }
  }

  func finish() {
    timer?.cancel()
    state.withLock { $0.display.finish() }
  }

  /// The seconds the stages not finished yet are predicted to take, less what the running
  /// ones have already spent.
  private func remaining(_ state: State) -> Double? {
    guard let predicted = state.model?.remainingSeconds(excluding: state.finished) else {
      return nil
    }
    let spent = state.running.values.map { instant -> Double in
      let elapsed = ContinuousClock.now - instant
      return Double(elapsed.components.seconds)
    }.reduce(0, +)
    return max(predicted - spent, 0) / Double(parallelism)
  }

  private func refresh() {
    state.withLock { state in
      guard var update = state.last else { return }
      if let running = state.running.keys.sorted().first {
        update.label = "running \(running)"
      }
      update.estimatedSecondsRemaining = remaining(state)
      state.display.refresh(update)
    }
  }

  private func advance(_ id: StageID, executed: Bool) {
    let (group, round) = groups[id] ?? (nil, nil)
    let isEvaluation = id.rawValue.hasSuffix("/evaluate")
    state.withLock { state in
      state.done += 1
      state.finished.insert(id)
      state.running[id] = nil
      if executed { state.executedStages += 1 }
      if executed, isEvaluation, let group, let round {
        state.executedRounds[group, default: []].append(round)
      }
      let label =
        if let group, let round { "\(group) round \(round)/\(rounds)" } else { id.rawValue }
      let update = ProgressDisplay.Update(
        unitsDone: state.done,
        unitsTotal: max(total, state.done),
        label: label,
        wasExecuted: executed,
        completesRound: isEvaluation || group == "mnist",
        estimatedSecondsRemaining: remaining(state)
      )
      state.last = update
      state.display.record(update)
    }
  }

  private func emit(_ line: String) {
    state.withLock { state in
      state.display.finish()
      FileHandle.standardError.write(Data((line + "\n").utf8))
    }
  }
}
