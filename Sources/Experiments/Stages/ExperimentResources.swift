import Foundation
import MNIST
import NeuralEngine

/// Shared, expensive resources of one process's experiment stages: the decoded MNIST tensors
/// (loaded once per file, not once per stage) and a pool of compute engines whose oneDNN
/// primitives are reused across stages. Stages receive it explicitly; it never enters a key.
public final class ExperimentResources: @unchecked Sendable {
  // Both guarded by `lock`. Engines are handed to one stage at a time, never shared.
  private let lock = NSLock()
  private var datasets: [String: MNISTTensors] = [:]
  private var idleEngines: [ComputeEngine] = []

  /// Creates an empty resource pool.
  public init() {}

  /// The MNIST tensors in the preprocessed file at `url`, decoded once per process.
  public func dataset(at url: URL) throws -> MNISTTensors {
    if let cached = lock.withLock({ datasets[url.path] }) { return cached }
    let loaded = try MNISTTensors(contentsOf: url)
    lock.withLock { datasets[url.path] = loaded }
    return loaded
  }

  /// Runs `body` with a compute engine nobody else is using, creating one if needed.
  public func withEngine<Result>(_ body: (ComputeEngine) throws -> Result) throws -> Result {
    let engine = try lock.withLock { idleEngines.popLast() } ?? ComputeEngine()
    defer { lock.withLock { idleEngines.append(engine) } }
    return try body(engine)
  }
}

/// The preprocessed MNIST splits as flat arrays (images `[N, pixels]` in [0, 1], labels
/// `0..<classCount`), with the dataset's facts read from the file.
public struct MNISTTensors: Sendable {
  /// Training images, `trainingCount x pixelCount` Float32 values.
  public let trainImages: [Float]
  /// Training labels.
  public let trainLabels: [Int]
  /// Test images, `testCount x pixelCount` Float32 values.
  public let testImages: [Float]
  /// Test labels.
  public let testLabels: [Int]
  /// Image shape, classes and split sizes, as the preprocessed file holds them.
  public let facts: DatasetFacts

  /// Reads the file written by the preprocess stage (shapes and labels are validated there).
  public init(contentsOf url: URL) throws {
    let dataset = try MNISTDataset(contentsOf: url.path)
    trainImages = dataset.trainImages
    testImages = dataset.testImages
    trainLabels = dataset.trainLabels.map { Int($0) }
    testLabels = dataset.testLabels.map { Int($0) }
    facts = dataset.facts
  }

  /// The training images at `indices` as a `[n, 1, 28, 28]` tensor.
  public func trainingImages(at indices: [Int]) -> Tensor {
    gather(trainImages, indices)
  }

  /// The test images and labels of ``stratifiedSubset(labels:count:seed:)`` (all 10,000 in
  /// their official order when `count` is 0).
  public func testSet(stratifiedSubset count: Int, seed: UInt64) -> (images: Tensor, labels: [Int])
  {
    let indices = testIndices(stratifiedSubset: count, seed: seed)
    return (gather(testImages, indices), indices.map { testLabels[$0] })
  }

  /// The indices of ``testSet(stratifiedSubset:seed:)``'s images, ascending.
  public func testIndices(stratifiedSubset count: Int, seed: UInt64) -> [Int] {
    count == 0 || count >= testLabels.count
      ? Array(testLabels.indices)
      : Self.stratifiedSubset(labels: testLabels, count: count, seed: seed)
  }

  /// A seeded, class-stratified random subset of `count` indices into `labels`, sorted.
  ///
  /// Each class gets `floor(count · n_c / N)` images, and the images left over go to the classes
  /// with the largest remainders (ties to the lower class), so class proportions match the full
  /// set to within one image. Within a class the images are a uniform draw without replacement
  /// (a Fisher–Yates shuffle of the class's indices, one 64-bit draw per position, from a
  /// generator seeded with `seed`). MNIST's test set is not in random order (its first 5000
  /// images are the easier half), so a prefix would be biased.
  public static func stratifiedSubset(labels: [Int], count: Int, seed: UInt64) -> [Int] {
    let classes = (labels.max() ?? -1) + 1
    var byClass = [[Int]](repeating: [], count: classes)
    for (index, label) in labels.enumerated() { byClass[label].append(index) }
    let total = labels.count
    var quota = byClass.map { count * $0.count / total }
    let remainders = byClass.indices.map { (count * byClass[$0].count) % total }
    let leftover = count - quota.reduce(0, +)
    let order = byClass.indices.sorted {
      (remainders[$0], -$0) > (remainders[$1], -$1)  // ties to the lower class
    }
    for c in order.prefix(leftover) { quota[c] += 1 }
    var generator = SeededGenerator(seed: seed)
    var chosen: [Int] = []
    for c in byClass.indices {
      var members = byClass[c]
      for position in stride(from: members.count - 1, to: 0, by: -1) {
        let other = Int(generator.next() % UInt64(position + 1))
        members.swapAt(position, other)
      }
      chosen += members.prefix(quota[c])
    }
    return chosen.sorted()
  }

  func gather(_ images: [Float], _ indices: [Int]) -> Tensor {
    let pixels = facts.pixelCount
    var scalars = [Float](repeating: 0, count: indices.count * pixels)
    images.withUnsafeBufferPointer { source in
      scalars.withUnsafeMutableBufferPointer { target in
        for (row, index) in indices.enumerated() {
          let from = source.baseAddress! + index * pixels
          (target.baseAddress! + row * pixels).update(from: from, count: pixels)
        }
      }
    }
    return Tensor(shape: [indices.count] + facts.imageShape, scalars: scalars)
  }
}
