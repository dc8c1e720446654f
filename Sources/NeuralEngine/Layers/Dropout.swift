/// Inverted dropout: kept units are scaled by `1 / (1 - p)` while training, so inference (no
/// dropout) needs no rescaling, as in Keras.
///
/// The mask is a Float buffer of the same shape as the activations, holding `0` (dropped) or
/// `1 / (1 - p)` (kept): forward and backward are then one multiply each.
enum Dropout {
  /// `output[i] = input[i] * mask[i]`; `output` may alias `input`.
  static func forward(
    input: UnsafePointer<Float>,
    mask: UnsafePointer<Float>,
    output: UnsafeMutablePointer<Float>,
    count: Int
  ) {
    Parallel.forEachChunk(of: count) { range in
      for index in range { output[index] = input[index] * mask[index] }
    }
  }

  /// `inputGradient[i] = outputGradient[i] * mask[i]`; the buffers may alias.
  static func backward(
    outputGradient: UnsafePointer<Float>,
    mask: UnsafePointer<Float>,
    inputGradient: UnsafeMutablePointer<Float>,
    count: Int
  ) {
    Parallel.forEachChunk(of: count) { range in
      for index in range { inputGradient[index] = outputGradient[index] * mask[index] }
    }
  }
}

/// Draws dropout masks cheaply and reproducibly.
///
/// **Cost.** When the rate is a multiple of `2^-b` for some `b ≤ 16` (0.25 and 0.5 need b = 2
/// and 1), each unit consumes only `b` random bits: a 64-bit draw decides 32 units at p = 0.25
/// and 64 at p = 0.5. A unit is dropped when its `b`-bit value is below `p · 2^b`, so the drop
/// probability is exactly `p`. Other rates use 16 bits per unit (rate rounded to a multiple of
/// 2^-16).
///
/// **Order.** Every mask row (one image's units in one layer) comes from its own generator,
/// seeded from `(seed, layer, sample, row)` by ``rowGenerator(seed:layer:sample:row:)``. The
/// masks therefore do not depend on batching or threading, which is what lets the fast and the
/// naive Monte Carlo paths draw identical masks, and lets rows be filled in parallel.
struct DropoutMaskSampler: Sendable {
  /// The probability of dropping a unit.
  let rate: Float
  /// The factor applied to kept units, `1 / (1 - rate)`.
  let scale: Float
  private let bitsPerUnit: Int
  private let dropThreshold: UInt64

  /// - Precondition: `0 <= rate < 1`.
  init(rate: Float) {
    precondition(rate >= 0 && rate < 1, "dropout rate \(rate) must lie in [0, 1)")
    self.rate = rate
    self.scale = 1 / (1 - rate)
    var bits = 16
    for candidate in 1...16 {
      let scaled = rate * Float(1 << candidate)
      if scaled == scaled.rounded() {
        bits = candidate
        break
      }
    }
    self.bitsPerUnit = bits
    self.dropThreshold = UInt64((rate * Float(1 << bits)).rounded())
  }

  /// The generator of one mask row; independent streams for distinct `(layer, sample, row)`.
  static func rowGenerator(seed: UInt64, layer: Int, sample: Int, row: Int) -> SeededGenerator {
    var mixed = seed
    _ = SeededGenerator.splitMix64(&mixed)
    for component in [UInt64(layer), UInt64(bitPattern: Int64(sample)), UInt64(row)] {
      mixed ^= component &* 0xBF58_476D_1CE4_E5B9
      _ = SeededGenerator.splitMix64(&mixed)
    }
    return SeededGenerator(seed: mixed)
  }

  /// Fills `mask[0..<count]` with 0 (dropped) or ``scale`` (kept).
  func fill(_ mask: UnsafeMutablePointer<Float>, count: Int, generator: inout SeededGenerator) {
    guard dropThreshold > 0 else {
      mask.update(repeating: 1, count: count)
      return
    }
    let scale = scale
    let kept = SIMD8<Float>(repeating: scale)
    forEachUnit(
      count: count,
      generator: &generator,
      eight: { index, keep in
        UnsafeMutableRawPointer(mask + index).storeBytes(
          of: SIMD8<Float>().replacing(with: kept, where: keep),
          as: SIMD8<Float>.self
        )
      },
      one: { index, keep in mask[index] = keep ? scale : 0 }
    )
  }

  /// `output[i] = input[i] * mask[i]` with the mask ``fill(_:count:generator:)`` would draw from
  /// the same generator, without storing it (for inference, where no backward pass follows).
  func apply(
    input: UnsafePointer<Float>,
    output: UnsafeMutablePointer<Float>,
    count: Int,
    generator: inout SeededGenerator
  ) {
    guard dropThreshold > 0 else {
      output.update(from: input, count: count)
      return
    }
    let scale = scale
    forEachUnit(
      count: count,
      generator: &generator,
      eight: { index, keep in
        let scaled = UnsafeRawPointer(input + index).loadUnaligned(as: SIMD8<Float>.self) * scale
        UnsafeMutableRawPointer(output + index).storeBytes(
          of: SIMD8<Float>().replacing(with: scaled, where: keep),
          as: SIMD8<Float>.self
        )
      },
      one: { index, keep in output[index] = keep ? input[index] * scale : 0 }
    )
  }

  /// Decides unit by unit whether it is kept, consuming ``bitsPerUnit`` bits of a 64-bit draw
  /// per unit, low bits first, and a fresh draw when a word is used up (the definition both
  /// ``fill(_:count:generator:)`` and ``apply(input:output:count:generator:)`` share).
  ///
  /// With 1, 2 or 4 bits per unit (rates that are multiples of 1/2, 1/4, 1/16, such as the
  /// paper's 0.25 and 0.5) a word holds a whole number of 8-unit groups, and each group is
  /// decided with one vector compare (`eight`); other rates, and a row's last few units, go one
  /// by one (`one`). Both paths draw exactly the same bits.
  @inline(__always)
  private func forEachUnit(
    count: Int,
    generator: inout SeededGenerator,
    eight: (_ index: Int, _ keep: SIMDMask<SIMD8<Int32>>) -> Void,
    one: (_ index: Int, _ keep: Bool) -> Void
  ) {
    let unitsPerWord = 64 / bitsPerUnit
    let unitMask: UInt64 = (1 << UInt64(bitsPerUnit)) - 1
    let bits = UInt64(bitsPerUnit)
    let vectorized = bitsPerUnit == 1 || bitsPerUnit == 2 || bitsPerUnit == 4
    let laneShifts = SIMD8<UInt32>(0, 1, 2, 3, 4, 5, 6, 7) &* UInt32(bitsPerUnit)
    let fieldMask = SIMD8<UInt32>(repeating: UInt32(unitMask))
    let threshold = SIMD8<UInt32>(repeating: UInt32(dropThreshold))
    var index = 0
    while index < count {
      var word = generator.next()
      let end = min(index + unitsPerWord, count)
      if vectorized {
        while index + 8 <= end {
          let fields =
            (SIMD8<UInt32>(repeating: UInt32(truncatingIfNeeded: word)) &>> laneShifts) & fieldMask
          eight(index, fields .>= threshold)
          word >>= 8 * bits
          index += 8
        }
      }
      while index < end {
        one(index, (word & unitMask) >= dropThreshold)
        word >>= bits
        index += 1
      }
    }
  }
}
