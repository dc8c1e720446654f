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
  }

  private let state: Mutex<State>
  private let total: Int
  private let rounds: Int
  private let quiet: Bool
  private let showProgress: Bool
  private let groups: [StageID: (group: String?, round: Int?)]

  init(quiet: Bool, showProgress: Bool, plan: ExperimentPlan?) {
    self.quiet = quiet
    self.showProgress = showProgress && !quiet
    let mode: ProgressDisplay.Mode =
      (quiet || !showProgress) ? .off : (isatty(STDERR_FILENO) == 1 ? .terminal : .lines)
    state = Mutex(State(display: .standardError(mode: mode)))
    total = plan?.graph.nodes.count ?? 0
    rounds = plan?.profile.parameters.rounds ?? 0
    var groups: [StageID: (String?, Int?)] = [:]
    for node in plan?.graph.nodes ?? [] { groups[node.id] = (node.group, node.round) }
    self.groups = groups
  }

  /// Rounds whose evaluation ran (not reused) in this process, per cell.
  var executedRounds: [String: [Int]] { state.withLock { $0.executedRounds } }
  /// Stages executed in this process.
  var executedStages: Int { state.withLock { $0.executedStages } }

  func pipeline(_ event: PipelineEvent) {
    switch event {
    case .stageCached(let id, _):
      advance(id, executed: false)
    case .stageFinished(let id, _, _):
      advance(id, executed: true)
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
    case .stageStarted, .stageLog, .progress:
      break
    }
  }

  func finish() { state.withLock { $0.display.finish() } }

  private func advance(_ id: StageID, executed: Bool) {
    let (group, round) = groups[id] ?? (nil, nil)
    let isEvaluation = id.rawValue.hasSuffix("/evaluate")
    state.withLock { state in
      state.done += 1
      if executed { state.executedStages += 1 }
      if executed, isEvaluation, let group, let round {
        state.executedRounds[group, default: []].append(round)
      }
      let label =
        if let group, let round { "\(group) round \(round)/\(rounds)" } else { id.rawValue }
      state.display.record(
        .init(
          unitsDone: state.done,
          unitsTotal: max(total, state.done),
          label: label,
          wasExecuted: executed,
          completesRound: isEvaluation || group == "mnist"
        )
      )
    }
  }

  private func emit(_ line: String) {
    state.withLock { state in
      state.display.finish()
      FileHandle.standardError.write(Data((line + "\n").utf8))
    }
  }
}
