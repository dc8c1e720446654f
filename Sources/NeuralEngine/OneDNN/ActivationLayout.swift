/// Where element `(n, c, h, w)` of a 4-D Float32 activation lives in a oneDNN buffer that is
/// plain (any order of the four dimensions) or blocked once along the channels (`nChw8c` on
/// AVX2, `nChw16c` on AVX-512):
///
///     offset + n·s₀ + (c / B)·s₁ + h·s₂ + w·s₃ + (c mod B)
///
/// with `B` the channel block (1 when plain) and `s` the strides of the outer dimensions.
/// The hand-written kernels read and write oneDNN's chosen layouts through it, eight channels
/// at a time.
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

  /// Whether channels `c₀..<c₀+8` (with `c₀` a multiple of 8) are adjacent in memory, so one
  /// SIMD load reaches them.
  var hasContiguousLanes: Bool { channelBlock % 8 == 0 }

  /// The index of element `(n, c, h, w)`.
  func index(_ n: Int, _ c: Int, _ h: Int, _ w: Int) -> Int {
    offset + n * batchStride + (c / channelBlock) * blockStride + h * rowStride + w
      * columnStride + c % channelBlock
  }

  /// Channels `c₀..<c₀+8` of image `n` in `buffer`, addressed by position; lanes at or past
  /// ``channels`` read as 0 and are never written (blocked padding keeps its zeros).
  func group(
    _ buffer: UnsafePointer<Float>,
    image n: Int,
    firstChannel: Int
  ) -> ChannelGroup {
    let base = UnsafeMutablePointer(mutating: buffer) + index(n, firstChannel, 0, 0)
    let lanes = min(8, channels - firstChannel)
    var laneOffsets = SIMD8<Int>()
    for lane in 0..<lanes {
      laneOffsets[lane] = index(n, firstChannel + lane, 0, 0) - index(n, firstChannel, 0, 0)
    }
    return ChannelGroup(
      base: base,
      rowStride: rowStride,
      columnStride: columnStride,
      lanes: lanes,
      isContiguous: hasContiguousLanes && lanes == 8,
      laneOffsets: laneOffsets
    )
  }
}

/// Eight channels of one image in an ``ActivationLayout``: one vector load or store per
/// position when the channels are adjacent (blocked layouts), lane by lane otherwise.
struct ChannelGroup {
  /// Element `(c₀, 0, 0)`.
  let base: UnsafeMutablePointer<Float>
  let rowStride: Int
  let columnStride: Int
  /// Real channels in the group (8 except at the end of a channel count not divisible by 8).
  let lanes: Int
  let isContiguous: Bool
  /// Offsets of the lanes from ``base`` (used when not contiguous; a vector, so building a
  /// group allocates nothing).
  let laneOffsets: SIMD8<Int>

  /// The channels at `(h, w)`.
  @inline(__always)
  func load(_ h: Int, _ w: Int) -> SIMD8<Float> {
    let position = base + h * rowStride + w * columnStride
    if isContiguous { return UnsafeRawPointer(position).loadUnaligned(as: SIMD8<Float>.self) }
    var values = SIMD8<Float>()
    for lane in 0..<lanes { values[lane] = position[laneOffsets[lane]] }
    return values
  }

  /// Writes the real channels at `(h, w)`.
  @inline(__always)
  func store(_ values: SIMD8<Float>, _ h: Int, _ w: Int) {
    let position = base + h * rowStride + w * columnStride
    if isContiguous {
      UnsafeMutableRawPointer(position).storeBytes(of: values, as: SIMD8<Float>.self)
      return
    }
    for lane in 0..<lanes { position[laneOffsets[lane]] = values[lane] }
  }
}
