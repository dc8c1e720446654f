/// A fixed-size, zero-initialised scratch buffer owned by a workspace (allocated once, reused
/// for every batch, freed with its owner).
final class ScratchBuffer<Element: BitwiseCopyable> {
  /// The elements.
  let pointer: UnsafeMutablePointer<Element>
  /// The number of elements.
  let count: Int

  init(count: Int, zero: Element) {
    self.count = count
    pointer = UnsafeMutablePointer<Element>.allocate(capacity: max(count, 1))
    pointer.initialize(repeating: zero, count: count)
  }

  deinit { pointer.deallocate() }
}
