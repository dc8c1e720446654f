/// A dense Float32 tensor: a shape and its elements in row-major (C) order.
///
/// `Tensor` is a value type. Its storage is a Swift `Array`, so copies are cheap and share
/// storage until one of them is mutated (copy-on-write); mutating a uniquely referenced tensor
/// through ``withUnsafeMutableBufferPointer(_:)`` happens in place. Image batches are
/// `[N, 1, 28, 28]`, probabilities `[N, 10]`, Monte Carlo samples `[T, N, 10]`, and parameters
/// use PyTorch's shapes (e.g. `fc1.weight` is `[128, 3872]`).
public struct Tensor: Sendable, Hashable {
  /// The extent of each dimension, outermost first.
  public private(set) var shape: [Int]
  /// The elements in row-major order; `scalars.count` is the product of `shape`.
  public private(set) var scalars: [Float]

  /// Creates a tensor from a shape and its row-major elements.
  /// - Precondition: `scalars.count` equals the product of `shape`, and no extent is negative.
  public init(shape: [Int], scalars: [Float]) {
    precondition(shape.allSatisfy { $0 >= 0 }, "negative extent in shape \(shape)")
    precondition(
      scalars.count == shape.reduce(1, *),
      "\(scalars.count) scalars do not fill shape \(shape)"
    )
    self.shape = shape
    self.scalars = scalars
  }

  /// Creates a tensor of the given shape with every element equal to `value`.
  public init(shape: [Int], repeating value: Float = 0) {
    self.init(shape: shape, scalars: Array(repeating: value, count: shape.reduce(1, *)))
  }

  /// The number of elements.
  public var count: Int { scalars.count }

  /// The same elements viewed with another shape of equal element count.
  public func reshaped(to newShape: [Int]) -> Tensor {
    Tensor(shape: newShape, scalars: scalars)
  }

  /// The element at a multi-dimensional index (slow; for tests and small lookups).
  public subscript(index: Int...) -> Float {
    get { scalars[offset(of: index)] }
    set { scalars[offset(of: index)] = newValue }
  }

  /// Calls `body` with the elements in row-major order.
  public func withUnsafeBufferPointer<Result>(
    _ body: (UnsafeBufferPointer<Float>) throws -> Result
  ) rethrows -> Result {
    try scalars.withUnsafeBufferPointer(body)
  }

  /// Calls `body` with mutable access to the elements (copying the storage first if shared).
  public mutating func withUnsafeMutableBufferPointer<Result>(
    _ body: (inout UnsafeMutableBufferPointer<Float>) throws -> Result
  ) rethrows -> Result {
    try scalars.withUnsafeMutableBufferPointer(body)
  }

  private func offset(of index: [Int]) -> Int {
    precondition(index.count == shape.count, "index \(index) does not match shape \(shape)")
    var offset = 0
    for (position, extent) in zip(index, shape) {
      precondition(0 <= position && position < extent, "index \(index) out of shape \(shape)")
      offset = offset * extent + position
    }
    return offset
  }
}
