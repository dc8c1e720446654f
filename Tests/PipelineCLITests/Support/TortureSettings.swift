import Foundation
import TestSupport
import Testing

/// How hard the torture tests push: bounded for CI, larger through the environment
/// (`Scripts/torture` sets these).
enum TortureSettings {
  /// SIGKILLs in the kill torture (`DBAL_TORTURE_KILLS`, default 20).
  static var kills: Int { integer("DBAL_TORTURE_KILLS", default: 20) }
  /// Seed of the kill moments (`DBAL_TORTURE_SEED`, default 2017).
  static var seed: UInt64 { UInt64(integer("DBAL_TORTURE_SEED", default: 2017)) }
  /// Extra rounds of each race scenario (`DBAL_TORTURE_RACES`, default 1).
  static var raceRepeats: Int { integer("DBAL_TORTURE_RACES", default: 1) }

  /// Whether real MNIST is available (the end-to-end tests need it).
  static var hasMNIST: Bool { TestSupport.mnistMirror != nil }
  static let noMNIST: Comment =
    "no MNIST mirror: set DBAL_MNIST_MIRROR to a folder with the four files"

  private static func integer(_ name: String, default fallback: Int) -> Int {
    ProcessInfo.processInfo.environment[name].flatMap { Int($0) } ?? fallback
  }
}

/// SplitMix64: a tiny seeded generator so kill moments are the same on every run of a seed.
struct SplitMix64: RandomNumberGenerator {
  private var state: UInt64

  init(seed: UInt64) { state = seed }

  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}
