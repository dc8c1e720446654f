import Foundation
import HDF5Store
import TestSupport
import Testing

/// Failures become typed errors that name the file and the object.
@Suite struct HDF5ErrorTests {
  @Test func missingFile() throws {
    let path = try HDF5RoundTripTests.scratchFile("absent.h5")
    #expect(throws: HDF5Error.fileNotFound(path: path)) { try HDF5File.open(path) }
  }

  @Test func fileThatIsNotHDF5() throws {
    let path = try HDF5RoundTripTests.scratchFile("text.h5")
    try Data("definitely not a superblock\n".utf8).write(to: URL(fileURLWithPath: path))
    #expect(throws: HDF5Error.notHDF5(path: path)) { try HDF5File.open(path) }
  }

  @Test func truncatedFileIsNotHDF5() throws {
    let path = try HDF5RoundTripTests.scratchFile("cut.h5")
    let file = try HDF5File.create(path)
    try file.write([Float](repeating: 1, count: 1000), shape: [1000], to: "x")
    try file.close()
    let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
    try bytes.prefix(200).write(to: URL(fileURLWithPath: path))
    #expect(throws: (any Error).self) { _ = try HDF5File.open(path).read("x", as: Float.self) }
  }

  @Test func missingDataset() throws {
    let file = try HDF5File.create(try HDF5RoundTripTests.scratchFile())
    try file.write([1] as [Float], shape: [1], to: "present")
    #expect(throws: HDF5Error.objectNotFound(file: file.path, object: "/absent/x")) {
      try file.read("absent/x", as: Float.self)
    }
    #expect(throws: HDF5Error.objectNotFound(file: file.path, object: "/gone")) {
      try file.info("gone")
    }
    #expect(throws: HDF5Error.objectNotFound(file: file.path, object: "/gone")) {
      try file.readString("gone")
    }
  }

  @Test func wrongTypeIsNeverConverted() throws {
    let file = try HDF5File.create(try HDF5RoundTripTests.scratchFile())
    try file.write([1.5] as [Double], shape: [1], to: "doubles")
    try file.writeString("text", to: "string")
    try file.createGroup("group")
    #expect(
      throws: HDF5Error.typeMismatch(
        file: file.path,
        object: "/doubles",
        expected: "float32",
        found: "float64"
      )
    ) { try file.read("doubles", as: Float.self) }
    #expect(throws: HDF5Error.self) { try file.read("string", as: UInt8.self) }
    #expect(throws: HDF5Error.self) { try file.readString("doubles") }
    #expect(throws: HDF5Error.self) { try file.read("group", as: Int64.self) }
  }

  @Test func writingTwiceToOnePathIsRefused() throws {
    let file = try HDF5File.create(try HDF5RoundTripTests.scratchFile())
    try file.write([1] as [Int32], shape: [1], to: "x")
    #expect(throws: HDF5Error.objectExists(file: file.path, object: "/x")) {
      try file.write([2] as [Int32], shape: [1], to: "/x/")
    }
  }

  @Test func writingToReadOnlyFileReportsLibraryMessage() throws {
    let path = try HDF5RoundTripTests.scratchFile()
    try HDF5File.create(path).close()
    let file = try HDF5File.open(path)
    do {
      try file.write([1] as [Int32], shape: [1], to: "x")
      Issue.record("write to a read-only file succeeded")
    } catch let HDF5Error.libraryError(errorFile, object, _, message) {
      #expect(errorFile == path)
      #expect(object == "/x")
      #expect(!message.isEmpty)
    }
  }

  @Test func descriptionsNameFileObjectAndFix() {
    let error = HDF5Error.typeMismatch(
      file: "/tmp/a.h5",
      object: "/train/images",
      expected: "float32",
      found: "float64"
    )
    #expect(error.description.contains("/tmp/a.h5"))
    #expect(error.description.contains("/train/images"))
    #expect(error.description.contains("float64"))
    #expect(HDF5Error.notHDF5(path: "/x.h5").description.contains("delete"))
  }
}
