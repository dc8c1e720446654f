/// A fast, seedable pseudo-random generator (xoshiro256**), the only source of randomness in DBAL.
///
/// Every random draw in the project comes from a generator built from the run's root seed and
/// the position of the draw in the experiment: `SeededGenerator(root: seed, path: ["rep", 2,
/// "round", 17, "dropout"])`. Two generators with the same root and path produce the same
/// sequence on every machine; different paths give statistically independent streams. The
/// state can be saved and restored exactly (checkpoints).
public struct SeededGenerator: RandomNumberGenerator, Sendable, Hashable {
  @usableFromInline var s0: UInt64
  @usableFromInline var s1: UInt64
  @usableFromInline var s2: UInt64
  @usableFromInline var s3: UInt64

  /// The four 64-bit words of xoshiro256** state (never all zero), for checkpoints.
  public var state: [UInt64] { [s0, s1, s2, s3] }

  /// Creates a generator from a single 64-bit seed (expanded with SplitMix64).
  public init(seed: UInt64) {
    // No array here: dropout draws one generator per mask row, so this runs millions of times.
    var splitmix = seed
    s0 = Self.splitMix64(&splitmix)
    s1 = Self.splitMix64(&splitmix)
    s2 = Self.splitMix64(&splitmix)
    s3 = Self.splitMix64(&splitmix)
    if s0 | s1 | s2 | s3 == 0 { s0 = 0x9E37_79B9_7F4A_7C15 }
  }

  /// Creates the generator for one purpose inside a run: the root seed mixed with each
  /// component of `path` (integers, or strings hashed with FNV-1a, which is stable across
  /// processes, unlike `Hasher`).
  public init(root: UInt64, path: [SeedComponent]) {
    self.init(seed: Self.derive(root: root, path: path))
  }

  /// Restores a generator from saved state (see ``state``).
  /// - Precondition: `state` has four words, not all zero.
  public init(state: [UInt64]) {
    precondition(state.count == 4 && state.contains { $0 != 0 }, "invalid xoshiro256** state")
    (s0, s1, s2, s3) = (state[0], state[1], state[2], state[3])
  }

  /// Derives a child seed from a root seed and a path, deterministically.
  public static func derive(root: UInt64, path: [SeedComponent]) -> UInt64 {
    var mixed = root
    _ = splitMix64(&mixed)
    for component in path {
      mixed ^= component.bits &* 0xBF58_476D_1CE4_E5B9
      mixed = splitMix64(&mixed)
    }
    return mixed
  }

  /// The next 64 random bits.
  @inlinable
  public mutating func next() -> UInt64 {
    let result = Self.rotl(s1 &* 5, 7) &* 9
    let t = s1 << 17
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = Self.rotl(s3, 45)
    return result
  }

  /// A uniform Float in [0, 1) with 24 random bits.
  @inlinable
  public mutating func nextUniformFloat() -> Float {
    Float(next() >> 40) * (1.0 / 16_777_216.0)
  }

  @inlinable
  static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

  static func splitMix64(_ x: inout UInt64) -> UInt64 {
    x &+= 0x9E37_79B9_7F4A_7C15
    var z = x
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

/// One component of a seed path: an integer (repetition, round) or a purpose name.
public enum SeedComponent: Sendable, Hashable, ExpressibleByIntegerLiteral,
  ExpressibleByStringLiteral
{
  case index(Int)
  case name(String)

  /// An integer component, e.g. a repetition or round number.
  public init(integerLiteral value: Int) { self = .index(value) }
  /// A named component, e.g. `"dropout"`.
  public init(stringLiteral value: String) { self = .name(value) }

  var bits: UInt64 {
    switch self {
    case .index(let value): return UInt64(bitPattern: Int64(value))
    case .name(let name):
      var hash: UInt64 = 0xCBF2_9CE4_8422_2325
      for byte in name.utf8 {
        hash ^= UInt64(byte)
        hash = hash &* 0x0000_0100_0000_01B3
      }
      return hash ^ 0x8000_0000_0000_0000
    }
  }
}
