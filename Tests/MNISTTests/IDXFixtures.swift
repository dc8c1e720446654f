import Foundation
import TestSupport
import Testing

extension Trait where Self == ConditionTrait {
  /// Skips a test, with a message, when the real MNIST files are not available.
  static var needsRealMNIST: Self {
    .enabled(if: TestSupport.mnistMirror != nil, "no MNIST mirror: set DBAL_MNIST_MIRROR")
  }
}

/// Builders for small synthetic idx files.
enum IDXFixtures {
  static func bigEndian(_ value: UInt32) -> [UInt8] {
    [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: value >> UInt32($0)) }
  }

  /// An idx3 images file: `count` images of `rows × columns`, pixel i = i % 256.
  static func images(
    count: Int,
    rows: Int = 28,
    columns: Int = 28,
    magic: UInt32 = 2051
  )
    -> [UInt8]
  {
    let header = [magic, UInt32(count), UInt32(rows), UInt32(columns)].flatMap(bigEndian)
    return header + (0..<count * rows * columns).map { UInt8(truncatingIfNeeded: $0) }
  }

  /// An idx1 labels file holding `labels`.
  static func labels(
    _ labels: [UInt8],
    declaredCount: Int? = nil,
    magic: UInt32 = 2049
  )
    -> [UInt8]
  {
    [magic, UInt32(declaredCount ?? labels.count)].flatMap(bigEndian) + labels
  }
}
