import Dispatch
import Foundation

/// Turns Ctrl-C into a cooperative cancellation: the first SIGINT (or SIGTERM) calls `handler`
/// so the run stops at the next safe point with everything committed kept; a second one exits
/// at once (nothing committed is lost either way: commits are atomic).
final class InterruptHandler: @unchecked Sendable {
  private var sources: [any DispatchSourceSignal] = []

  init(_ handler: @escaping @Sendable () -> Void) {
    let queue = DispatchQueue(label: "dbal.signals")
    let count = CountBox()
    for signalNumber in [SIGINT, SIGTERM] {
      signal(signalNumber, SIG_IGN)
      let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: queue)
      source.setEventHandler {
        if count.increment() > 1 { _exit(130) }
        FileHandle.standardError.write(
          Data(
            ("\ninterrupted: stopping after the current step; everything committed is kept. "
              + "Rerun the same command to resume (press Ctrl-C again to quit now).\n").utf8
          )
        )
        handler()
      }
      source.resume()
      sources.append(source)
    }
  }

  deinit {
    for source in sources { source.cancel() }
    signal(SIGINT, SIG_DFL)
    signal(SIGTERM, SIG_DFL)
  }
}

private final class CountBox: @unchecked Sendable {
  private var value = 0
  private let lock = NSLock()
  func increment() -> Int {
    lock.withLock {
      value += 1; return value
    }
  }
}
