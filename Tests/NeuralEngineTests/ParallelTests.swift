import Synchronization
import Testing

@testable import NeuralEngine

/// The data-parallel loops the kernels run on (oneDNN's OpenMP team in this process).
@Suite struct ParallelTests {
  @Test(arguments: [(0, 8), (1, 8), (5, 8), (1000, 8), (1000, 3), (7, 1)])
  func everyIndexRunsOnceInItsPart(count: Int, parts: Int) {
    let visits = UnsafeMutableBufferPointer<Int>.allocate(capacity: max(count, 1))
    let owner = UnsafeMutableBufferPointer<Int>.allocate(capacity: max(count, 1))
    visits.initialize(repeating: 0)
    owner.initialize(repeating: -1)
    defer {
      visits.deallocate()
      owner.deallocate()
    }
    Parallel.forEachRange(of: count, parts: parts) { part, range in
      for index in range {
        visits[index] += 1
        owner[index] = part
      }
    }
    #expect(visits.prefix(count).allSatisfy { $0 == 1 })
    // Parts are contiguous, in order, and fixed by (count, parts) alone.
    let used = max(1, min(parts, count))
    for index in 0..<count {
      #expect(owner[index] == (0..<used).first { index < count * ($0 + 1) / used })
    }
  }

  @Test func chunksCoverTheRangeAboveAndBelowTheGrain() {
    for count in [10, 100_000] {
      let total = Atomic<Int>(0)
      Parallel.forEachChunk(of: count, grain: 1000) { range in
        total.add(range.reduce(0, +), ordering: .relaxed)
      }
      #expect(total.load(ordering: .relaxed) == count * (count - 1) / 2)
    }
  }
}
