/// Where element `(n, c, h, w)` of a 4-D Float32 activation lives in a oneDNN buffer that is
/// plain (any order of the four dimensions: `nchw`, or `nhwc` with the channels adjacent) or
/// blocked once along the channels (`nChw8c` on AVX2, `nChw16c` on some AVX-512 kernels):
///
///     offset + n·s₀ + (c / B)·s₁ + h·s₂ + w·s₃ + (c mod B)
///
/// with `B` the channel block (1 when plain) and `s` the strides of the outer dimensions.
/// The hand-written kernels read and write oneDNN's chosen layouts through it, a
/// ``KernelVector`` of channels at a time.
struct ActivationLayout: Equatable, Sendable {
  /// `N`, images.
  let batch: Int
  /// `C`, channels (without the padding of the last block).
  let channels: Int
  /// `H`.
  let height: Int
  /// `W`.
  let width: Int
  /// `B`, channels per block; 1 for plain layouts.
  let channelBlock: Int
  private let batchStride: Int
  private let blockStride: Int
  private let rowStride: Int
  private let columnStride: Int
  private let offset: Int
  /// The widest vector the kernels may use on this layout (16 or 8): the machine's
  /// (``KernelVectorWidth/machine``) unless the owner of the buffer says otherwise.
  var laneLimit = KernelVectorWidth.machine

  /// A layout from oneDNN's blocking description (`dimensions` and `strides` as `[N, C, H, W]`).
  init(dimensions: [Int], channelBlock: Int, strides: [Int], offset: Int) {
    precondition(dimensions.count == 4 && strides.count == 4 && channelBlock > 0)
    (batch, channels, height, width) = (dimensions[0], dimensions[1], dimensions[2], dimensions[3])
    self.channelBlock = channelBlock
    (batchStride, blockStride, rowStride, columnStride) = (
      strides[0], strides[1], strides[2], strides[3]
    )
    self.offset = offset
  }

  /// Whether channels `c₀..<c₀+lanes` (with `c₀` a multiple of `lanes`) are adjacent in
  /// memory, so one vector load reaches them: in a channel block that `lanes` divides, or in
  /// a plain layout whose channels are its innermost dimension (`nhwc`).
  func hasContiguousLanes(_ lanes: Int) -> Bool {
    channelBlock > 1 ? channelBlock % lanes == 0 : blockStride == 1
  }

  /// The vector width the kernels use on this layout: 16 lanes where ``laneLimit`` allows it
  /// (by default where the machine has AVX-512) and the layout keeps 16 channels adjacent,
  /// else 8.
  var kernelLanes: Int {
    laneLimit >= 16 && hasContiguousLanes(16) && channels % 16 == 0 ? 16 : 8
  }

  /// The index of element `(n, c, h, w)`.
  func index(_ n: Int, _ c: Int, _ h: Int, _ w: Int) -> Int {
    offset + n * batchStride + (c / channelBlock) * blockStride + h * rowStride + w
      * columnStride + c % channelBlock
  }

  /// Channels `c₀..<c₀+V.scalarCount` (with `c₀` a multiple of the width) of image `n` in
  /// `buffer`, addressed by position; lanes at or past ``channels`` read as 0 and are never
  /// written (blocked padding keeps its zeros).
  func group<V: KernelVector>(
    _ buffer: UnsafePointer<Float>,
    image n: Int,
    firstChannel: Int,
    as _: V.Type = V.self
  ) -> ChannelGroup<V> {
    let base = UnsafeMutablePointer(mutating: buffer) + index(n, firstChannel, 0, 0)
    let lanes = min(V.scalarCount, channels - firstChannel)
    var laneOffsets = SIMD16<Int>()
    for lane in 0..<lanes {
      laneOffsets[lane] = index(n, firstChannel + lane, 0, 0) - index(n, firstChannel, 0, 0)
    }
    return ChannelGroup(
      base: base,
      rowStride: rowStride,
      columnStride: columnStride,
      lanes: lanes,
      isContiguous: hasContiguousLanes(V.scalarCount) && lanes == V.scalarCount,
      laneOffsets: laneOffsets
    )
  }
}

/// The lane counts of the hand-written kernels, chosen once per process.
enum KernelVectorWidth {
  /// 16 where oneDNN runs AVX-512 kernels on this CPU (its blocked layouts then have 16
  /// channels per block, and `nhwc` pixels are whole 16-channel vectors), 8 elsewhere.
  static let machine: Int = OneDNNLibrary.hasAVX512 ? 16 : 8
}

/// A vector of `Float` lanes that the hand-written kernels are written over once and
/// instantiated for SIMD8 and SIMD16.
///
/// The comparisons and selections are requirements with one concrete implementation per
/// width: the stdlib's generic `SIMD` comparisons compile lane by lane (branches and stack
/// spills) inside a generic function even after specialisation, while the concrete types'
/// compile to vector compares and `maxps`.
protocol KernelVector: SIMD where Scalar == Float {
  /// The lane-wise larger value (`b` where `b > a`, else `a`). Not the stdlib's
  /// `pointwiseMax`, whose IEEE `maximum` NaN rules do not compile to one instruction.
  static func larger(_ a: Self, _ b: Self) -> Self
  /// `self` where `output > 0`, else 0: the ReLU backward pass from the ReLU's output.
  func passedByReLU(output: Self) -> Self
  /// `(self where x == y else 0, 0 where x == y else self)`: hands the lanes where `x`
  /// equals `y` to the first result.
  func split(where x: Self, equals y: Self) -> (taken: Self, rest: Self)
}

// One line per operation and width: the concrete types' operators, nothing else.
extension SIMD8: KernelVector where Scalar == Float {
  @inline(__always)
  static func larger(_ a: Self, _ b: Self) -> Self { a.replacing(with: b, where: b .> a) }
  @inline(__always)
  func passedByReLU(output: Self) -> Self { replacing(with: 0, where: output .<= 0) }
  @inline(__always)
  func split(where x: Self, equals y: Self) -> (taken: Self, rest: Self) {
    (Self().replacing(with: self, where: x .== y), replacing(with: 0, where: x .== y))
  }
}

extension SIMD16: KernelVector where Scalar == Float {
  @inline(__always)
  static func larger(_ a: Self, _ b: Self) -> Self { a.replacing(with: b, where: b .> a) }
  @inline(__always)
  func passedByReLU(output: Self) -> Self { replacing(with: 0, where: output .<= 0) }
  @inline(__always)
  func split(where x: Self, equals y: Self) -> (taken: Self, rest: Self) {
    (Self().replacing(with: self, where: x .== y), replacing(with: 0, where: x .== y))
  }
}

extension KernelVector {
  @inline(__always)
  static func load(_ pointer: UnsafePointer<Float>) -> Self {
    UnsafeRawPointer(pointer).loadUnaligned(as: Self.self)
  }

  @inline(__always)
  func store(to pointer: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(pointer).storeBytes(of: self, as: Self.self)
  }

  /// The maximum of the 2x2 window `a b / d e`.
  @inline(__always)
  static func windowMaximum(_ a: Self, _ b: Self, _ d: Self, _ e: Self) -> Self {
    larger(larger(a, b), larger(d, e))
  }

  /// Where a 2x2 window's gradient `self` goes in max pooling after a ReLU: all of it to the
  /// first of `a, b, d, e` (row-major order) that equals `maximum` (`e` when none of the
  /// first three does), and nowhere when `maximum <= 0` (the ReLU stopped it). The four
  /// positions' gradients.
  @inline(__always)
  func routedToFirstMaximum(
    _ maximum: Self,
    _ a: Self,
    _ b: Self,
    _ d: Self
  ) -> (Self, Self, Self, Self) {
    let (toA, rest) = passedByReLU(output: maximum).split(where: a, equals: maximum)
    let (toB, rest2) = rest.split(where: b, equals: maximum)
    let (toD, toE) = rest2.split(where: d, equals: maximum)
    return (toA, toB, toD, toE)
  }
}

/// `V.scalarCount` channels of one image in an ``ActivationLayout``: one vector load or store
/// per position when the channels are adjacent (blocked layouts, `nhwc`), lane by lane
/// otherwise.
struct ChannelGroup<V: KernelVector> {
  /// Element `(c₀, 0, 0)`.
  let base: UnsafeMutablePointer<Float>
  let rowStride: Int
  let columnStride: Int
  /// Real channels in the group (`V.scalarCount` except at the end of a channel count it
  /// does not divide).
  let lanes: Int
  let isContiguous: Bool
  /// Offsets of the lanes from ``base`` (used when not contiguous; a vector, so building a
  /// group allocates nothing).
  let laneOffsets: SIMD16<Int>

  /// The channels at `(h, w)`.
  @inline(__always)
  func load(_ h: Int, _ w: Int) -> V {
    let position = base + h * rowStride + w * columnStride
    if isContiguous { return V.load(position) }
    var values = V()
    for lane in 0..<lanes { values[lane] = position[laneOffsets[lane]] }
    return values
  }

  /// Writes the real channels at `(h, w)`.
  @inline(__always)
  func store(_ values: V, _ h: Int, _ w: Int) {
    let position = base + h * rowStride + w * columnStride
    if isContiguous {
      values.store(to: position)
      return
    }
    for lane in 0..<lanes { position[laneOffsets[lane]] = values[lane] }
  }
}
