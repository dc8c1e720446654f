import Foundation
import HDF5Store
import TestSupport
import Testing

/// Values of every element type and every rank survive a write and a read unchanged.
@Suite struct HDF5RoundTripTests {
  static let shapes: [[Int]] = [[], [5], [3, 4], [2, 3, 4], [2, 1, 3, 2], [1, 2, 1, 2, 3]]

  /// A file in a fresh temporary directory.
  static func scratchFile(_ name: String = "test.h5") throws -> String {
    try TestSupport.temporaryDirectory("hdf5store").appendingPathComponent(name).path
  }

  static func roundTrip<E: HDF5Element & Equatable>(
    _ make: (Int) -> E,
    shape: [Int],
    compression: HDF5Compression
  ) throws -> (written: HDF5Array<E>, read: HDF5Array<E>, info: HDF5DatasetInfo) {
    let count = shape.reduce(1, *)
    let written = HDF5Array(shape: shape, values: (0..<count).map(make))
    let path = try scratchFile()
    let file = try HDF5File.create(path)
    try file.write(written.values, shape: shape, to: "data/x", compression: compression)
    try file.close()
    let reopened = try HDF5File.open(path)
    return (written, try reopened.read("data/x", as: E.self), try reopened.info("/data/x"))
  }

  @Test(arguments: shapes)
  func everyElementTypeAndRank(shape: [Int]) throws {
    let f32 = try Self.roundTrip({ Float($0) * 0.25 - 3 }, shape: shape, compression: .none)
    #expect(f32.read == f32.written)
    #expect(f32.info == HDF5DatasetInfo(elementType: .float32, shape: shape))
    let f64 = try Self.roundTrip({ Double($0) / 7 }, shape: shape, compression: .none)
    #expect(f64.read == f64.written)
    #expect(f64.info.elementType == .float64)
    let i32 = try Self.roundTrip({ Int32($0) - 9 }, shape: shape, compression: .none)
    #expect(i32.read == i32.written)
    #expect(i32.info.elementType == .int32)
    let i64 = try Self.roundTrip({ Int64($0) << 40 }, shape: shape, compression: .none)
    #expect(i64.read == i64.written)
    #expect(i64.info.elementType == .int64)
    let u8 = try Self.roundTrip(
      { UInt8(truncatingIfNeeded: $0 * 37) },
      shape: shape,
      compression: .none
    )
    #expect(u8.read == u8.written)
    #expect(u8.info.elementType == .uint8)
  }

  @Test(arguments: [HDF5Compression.none, .deflate(level: 1), .deflate(level: 9), .automatic])
  func compressionKeepsValues(compression: HDF5Compression) throws {
    // 40,000 floats = 160 KB: above the automatic threshold, and more than one chunk row.
    let shape = [100, 20, 20]
    let result = try Self.roundTrip(
      { Float(sin(Double($0))) },
      shape: shape,
      compression: compression
    )
    #expect(result.read == result.written)
  }

  @Test func compressionShrinksRedundantData() throws {
    let values = [Float](repeating: 0.5, count: 200_000)
    let directory = try TestSupport.temporaryDirectory("hdf5store")
    var sizes: [Int] = []
    for (name, compression) in [("raw.h5", HDF5Compression.none), ("packed.h5", .automatic)] {
      let path = directory.appendingPathComponent(name).path
      let file = try HDF5File.create(path)
      try file.write(values, shape: [200_000], to: "x", compression: compression)
      try file.close()
      sizes.append(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? 0)
    }
    #expect(sizes[0] > 800_000)
    #expect(sizes[1] < 100_000)
  }

  @Test func emptyDatasetRoundTrips() throws {
    let result = try Self.roundTrip({ Float($0) }, shape: [0, 28], compression: .automatic)
    #expect(result.read.shape == [0, 28])
    #expect(result.read.values.isEmpty)
  }

  @Test func nestedGroupsAndDatasetPaths() throws {
    let file = try HDF5File.create(try Self.scratchFile())
    try file.createGroup("a/b/c")
    try file.createGroup("/a/b")  // existing groups are kept
    try file.write([1, 2] as [Int64], shape: [2], to: "/a/b/c/d")
    try file.write([1] as [UInt8], shape: [1], to: "z")
    try file.write([3] as [Float], shape: [], to: "a/e")
    try file.writeString("{}", to: "meta/provenance")
    #expect(file.exists("a"))
    #expect(file.exists("/a/b/c"))
    #expect(file.exists("a/b/c/d"))
    #expect(file.exists("/"))
    #expect(!file.exists("a/b/x"))
    #expect(!file.exists("missing/parent/x"))
    #expect(try file.datasetPaths() == ["a/b/c/d", "a/e", "meta/provenance", "z"])
  }

  @Test func rawBytesAreLittleEndianInCOrder() throws {
    let file = try HDF5File.create(try Self.scratchFile())
    try file.write([1, 256, -2] as [Int32], shape: [3], to: "ints")
    try file.write([1.0, -2.5] as [Float], shape: [2, 1], to: "floats")
    #expect(try file.readRawBytes("ints") == [1, 0, 0, 0, 0, 1, 0, 0, 0xFE, 0xFF, 0xFF, 0xFF])
    // 1.0 = 0x3F800000, -2.5 = 0xC0200000
    #expect(try file.readRawBytes("floats") == [0, 0, 0x80, 0x3F, 0, 0, 0x20, 0xC0])
  }

  @Test(arguments: [
    "", "plain ascii", "grüße, 数据, ∑ 🧪", String(repeating: "0123456789", count: 10_000),
  ])
  func stringsRoundTrip(string: String) throws {
    let path = try Self.scratchFile()
    let file = try HDF5File.create(path)
    try file.writeString(string, to: "docs/text")
    try file.close()
    #expect(try HDF5File.open(path).readString("docs/text") == string)
  }

  @Test func openingReadWriteAllowsAppending() throws {
    let path = try Self.scratchFile()
    let file = try HDF5File.create(path)
    try file.write([1] as [Int64], shape: [1], to: "first")
    try file.close()
    try file.close()  // idempotent
    let appended = try HDF5File.open(path, mode: .readWrite)
    try appended.write([2] as [Int64], shape: [1], to: "second")
    try appended.close()
    #expect(try HDF5File.open(path).datasetPaths() == ["first", "second"])
  }

  @Test func libraryVersionIsReported() {
    #expect(HDF5Library.version.split(separator: ".").count == 3)
    #expect(HDF5Library.version.hasPrefix("1."))
  }
}
