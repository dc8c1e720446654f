import Foundation
import HDF5Store
import MNIST
import TestSupport
import Testing

/// The real files: fetch from the mirror, preprocess to HDF5, load back.
@Suite struct MNISTEndToEndTests {
  static let trainClassCounts = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
  static let testClassCounts = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]

  /// Minimum, maximum and sum in one pointer pass (generic algorithms are slow in debug).
  static func summary(_ values: [Float]) -> (minimum: Float, maximum: Float, sum: Double) {
    values.withUnsafeBufferPointer { buffer in
      guard let base = buffer.baseAddress else { return (0, 0, 0) }
      var result = (minimum: Float.infinity, maximum: -Float.infinity, sum: 0.0)
      for index in 0..<buffer.count {
        let value = base[index]
        result.minimum = min(result.minimum, value)
        result.maximum = max(result.maximum, value)
        result.sum += Double(value)
      }
      return result
    }
  }

  static func classCounts(_ labels: [Int32]) -> [Int] {
    labels.reduce(into: [Int](repeating: 0, count: 10)) { $0[Int($1)] += 1 }
  }

  @Test(.needsRealMNIST) func downloadPreprocessAndLoad() async throws {
    let mirror = try #require(TestSupport.mnistMirror)
    let work = try TestSupport.temporaryDirectory("mnist-e2e")
    defer { try? FileManager.default.removeItem(at: work) }
    let raw = work.appendingPathComponent("raw")
    let downloader = MNISTDownloader(localMirror: mirror) { _ in
      Issue.record("the network must not be used when a mirror is given")
      throw CancellationError()
    }

    let first = try await downloader.download(into: raw)
    #expect(first.map(\.file) == MNISTFile.all)
    #expect(
      first.allSatisfy {
        $0.origin == .localMirror(mirror.appendingPathComponent($0.file.compressedName))
      }
    )
    #expect(
      Set(try FileManager.default.contentsOfDirectory(atPath: raw.path))
        == Set(MNISTFile.all.map(\.name))
    )
    let second = try await downloader.download(into: raw)
    #expect(second.allSatisfy { $0.origin == .reused }, "a verified copy must be reused")

    let output = work.appendingPathComponent("mnist.h5").path
    try MNISTDataset.preprocess(rawDirectory: raw, to: output)

    let file = try HDF5File.open(output)
    #expect(
      try file.info("train/images")
        == HDF5DatasetInfo(elementType: .float32, shape: [60_000, 28, 28])
    )
    #expect(try file.info("train/labels") == HDF5DatasetInfo(elementType: .int64, shape: [60_000]))
    #expect(
      try file.info("test/images")
        == HDF5DatasetInfo(elementType: .float32, shape: [10_000, 28, 28])
    )
    #expect(try file.info("test/labels") == HDF5DatasetInfo(elementType: .int64, shape: [10_000]))
    #expect(try file.attribute("scaling") == .string("x/255"))
    #expect(
      try file.attribute("sha256_train-images-idx3-ubyte") == .string(MNISTFile.trainImages.sha256)
    )
    try file.close()

    let dataset = try MNISTDataset(contentsOf: output)
    #expect(dataset.trainCount == 60_000 && dataset.testCount == 10_000)
    #expect(Self.classCounts(dataset.trainLabels) == Self.trainClassCounts)
    #expect(Self.classCounts(dataset.testLabels) == Self.testClassCounts)
    #expect(dataset.trainLabels.prefix(5) == [5, 0, 4, 1, 9])
    let train = Self.summary(dataset.trainImages)
    let test = Self.summary(dataset.testImages)
    #expect(train.minimum == 0 && train.maximum == 1)
    #expect(test.minimum == 0 && test.maximum == 1)
    // Sums of the raw pixel bytes (computed independently with Python's gzip module) / 255.
    #expect(isClose(train.sum, 1_567_298_545.0 / 255, absolute: 0, relative: 1e-6))
    #expect(isClose(test.sum, 264_923_200.0 / 255, absolute: 0, relative: 1e-6))
    // Exactly x/255 in Float32: the first training image's pixel (row 5, column 12) is 3.
    #expect(dataset.trainImages[5 * 28 + 12] == Float(3) / 255)
  }
}
