import Foundation
import HDF5Store
import MNIST
import TestSupport
import Testing

/// The loader refuses files that do not have the preprocessed layout.
@Suite struct MNISTDatasetTests {
  @Test func scalingIsDivisionBy255() {
    let raw = MNISTRawData(
      train: MNISTRawSplit(pixels: (0..<784).map { UInt8($0 % 256) }, labels: [7]),
      test: MNISTRawSplit(pixels: [UInt8](repeating: 255, count: 784), labels: [0])
    )
    let dataset = MNISTDataset(scaling: raw)
    #expect(dataset.trainImages[3] == Float(3) / 255)
    #expect(dataset.trainImages[255] == 1)
    #expect(dataset.testImages.allSatisfy { $0 == 1 })
    #expect(dataset.trainLabels == [7] && dataset.testLabels == [0])
  }

  @Test func missingFileNamesTheFix() throws {
    let path = try TestSupport.temporaryDirectory("mnist-h5").appendingPathComponent("absent.h5")
      .path
    #expect {
      try MNISTDataset(contentsOf: path)
    } throws: { error in
      guard case .invalidPreprocessedFile(let file, _) = error as? MNISTError else { return false }
      return file == path && "\(error)".contains("pipeline fetch mnist")
    }
  }

  @Test func wrongShapeIsRejected() throws {
    let path = try TestSupport.temporaryDirectory("mnist-h5").appendingPathComponent("small.h5")
      .path
    let raw = MNISTRawData(
      train: MNISTRawSplit(pixels: [UInt8](repeating: 1, count: 2 * 784), labels: [1, 2]),
      test: MNISTRawSplit(pixels: [UInt8](repeating: 1, count: 784), labels: [3])
    )
    try MNISTDataset(scaling: raw).write(to: path)
    #expect {
      try MNISTDataset(contentsOf: path)
    } throws: { error in
      guard case .invalidPreprocessedFile(let file, let problem) = error as? MNISTError else {
        return false
      }
      return file == path && problem.contains("train/images") && problem.contains("60000")
    }
  }

  @Test func wrongScalingIsRejected() throws {
    let path = try TestSupport.temporaryDirectory("mnist-h5").appendingPathComponent("std.h5").path
    let file = try HDF5File.create(path)
    try file.setAttribute("scaling", .string("(x/255-0.1307)/0.3081"))
    try file.close()
    #expect {
      try MNISTDataset(contentsOf: path)
    } throws: { error in
      guard case .invalidPreprocessedFile(_, let problem) = error as? MNISTError else {
        return false
      }
      return problem.contains("scaling")
    }
  }
}
