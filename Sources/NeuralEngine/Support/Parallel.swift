import Dispatch

#if canImport(Glibc)
  import Glibc
#endif

/// Data-parallel loops over all cores for the engine's hand-written kernels.
///
/// The loops run on oneDNN's own OpenMP worker threads when oneDNN runs on GNU OpenMP (as
/// Debian's build does): those workers spin for a while after every primitive, so a second
/// thread pool would fight them for the cores (measured: the kernels took 60% longer on
/// Dispatch's threads). Elsewhere the loops fall back to `DispatchQueue.concurrentPerform`.
enum Parallel {
  /// Splits `0..<count` into `parts` contiguous ranges and runs `body` on them concurrently.
  ///
  /// The split depends only on `count` and `parts`, never on the machine, so a reduction that
  /// keeps one partial result per part and sums them in part order is reproducible anywhere.
  /// Parts must be independent (each writes only its own outputs).
  static func forEachRange(
    of count: Int,
    parts: Int,
    _ body: (_ part: Int, _ range: Range<Int>) -> Void
  ) {
    let parts = max(1, min(parts, count))
    withoutActuallyEscaping(body) { body in
      let task: (Int) -> Void = { part in
        body(part, (count * part / parts)..<(count * (part + 1) / parts))
      }
      if let runtime = OpenMPRuntime.shared {
        runtime.run(parts: parts, task)
      } else {
        let sendable = UncheckedSendable(task)
        DispatchQueue.concurrentPerform(iterations: parts) { sendable.value($0) }
      }
    }
  }
}

extension Parallel {
  /// OpenMP's `omp_get_max_threads()` (`OMP_NUM_THREADS`, else one per core) in the runtime
  /// that oneDNN loaded; nil where oneDNN runs on another threading runtime.
  static var openMPThreads: Int? {
    #if canImport(Glibc)
      typealias ThreadQuery = @convention(c) () -> Int32
      guard let query = dlsym(nil, "omp_get_max_threads") else { return nil }
      return Int(unsafeBitCast(query, to: ThreadQuery.self)())
    #else
      return nil
    #endif
  }
}

extension Parallel {
  /// Runs an element-wise loop over `0..<count` in parallel chunks (serially when `count` is
  /// below `grain`, where waking the other threads would cost more than it saves). Every
  /// element must be computed independently, so the result does not depend on the split.
  static func forEachChunk(
    of count: Int,
    grain: Int = 32_768,
    _ body: (_ range: Range<Int>) -> Void
  ) {
    guard count >= 2 * grain else {
      body(0..<count)
      return
    }
    forEachRange(of: count, parts: min(8, count / grain)) { _, range in body(range) }
  }
}

/// The GNU OpenMP entry points, looked up at run time in the libgomp that oneDNN loaded
/// (nil when oneDNN runs on another threading runtime). `GOMP_parallel` is the call GCC emits
/// for `#pragma omp parallel`.
private struct OpenMPRuntime: Sendable {
  typealias Outlined = @convention(c) (UnsafeMutableRawPointer?) -> Void
  typealias ParallelRegion =
    @convention(c) (Outlined, UnsafeMutableRawPointer?, UInt32, UInt32)
    -> Void
  typealias ThreadQuery = @convention(c) () -> Int32

  let parallel: ParallelRegion
  let threadNumber: ThreadQuery
  let threadCount: ThreadQuery

  static let shared: OpenMPRuntime? = {
    #if canImport(Glibc)
      guard let parallel = dlsym(nil, "GOMP_parallel"),
        let threadNumber = dlsym(nil, "omp_get_thread_num"),
        let threadCount = dlsym(nil, "omp_get_num_threads")
      else { return nil }
      return OpenMPRuntime(
        parallel: unsafeBitCast(parallel, to: ParallelRegion.self),
        threadNumber: unsafeBitCast(threadNumber, to: ThreadQuery.self),
        threadCount: unsafeBitCast(threadCount, to: ThreadQuery.self)
      )
    #else
      return nil
    #endif
  }()

  /// What one parallel region runs: parts dealt round-robin to the team's threads.
  private struct Job {
    let parts: Int
    let task: (Int) -> Void
  }

  /// Runs `task(part)` for every part in `0..<parts` on the OpenMP team; returns when all
  /// have finished (the region ends in a barrier).
  func run(parts: Int, _ task: (Int) -> Void) {
    withoutActuallyEscaping(task) { task in
      var job = Job(parts: parts, task: task)
      withUnsafeMutablePointer(to: &job) { pointer in
        parallel(
          { raw in
            guard let raw, let runtime = OpenMPRuntime.shared else { return }
            let job = raw.assumingMemoryBound(to: Job.self).pointee
            let threads = max(1, Int(runtime.threadCount()))
            for part in stride(from: Int(runtime.threadNumber()), to: job.parts, by: threads) {
              job.task(part)
            }
          },
          UnsafeMutableRawPointer(pointer),
          0,
          0
        )
      }
    }
  }
}

/// Carries a closure whose captured buffers are written at disjoint places into
/// `concurrentPerform`.
private struct UncheckedSendable<Value>: @unchecked Sendable {
  let value: Value
  init(_ value: Value) { self.value = value }
}
