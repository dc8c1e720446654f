import Foundation
import HDF5Store
import TestSupport
import Testing

/// The bytes on disk: deterministic, and readable by the reference tools.
@Suite struct HDF5FileFormatTests {
  static func writeSample(to path: String) throws {
    let file = try HDF5File.create(path)
    try file.write((0..<30_000).map { Float($0) / 3 }, shape: [300, 10, 10], to: "train/images")
    try file.write((0..<300).map { Int64($0 % 10) }, shape: [300], to: "train/labels")
    try file.writeString("{\"stage\": \"preprocess\"}", to: "provenance")
    try file.setAttribute("scaling", .string("x/255"))
    try file.setAttribute("seeds", .ints([1, 2, 3]))
    try file.setAttribute("count", .int(300), on: "train/labels")
    try file.close()
  }

  @Test func equalContentGivesIdenticalBytes() throws {
    let directory = try TestSupport.temporaryDirectory("hdf5store")
    let first = directory.appendingPathComponent("first.h5")
    let second = directory.appendingPathComponent("second.h5")
    try Self.writeSample(to: first.path)
    // A different second so that a time stamp would differ if one were stored.
    Thread.sleep(forTimeInterval: 1.1)
    try Self.writeSample(to: second.path)
    let firstBytes = try Data(contentsOf: first)
    let secondBytes = try Data(contentsOf: second)
    #expect(firstBytes.count > 0)
    #expect(firstBytes == secondBytes)
  }

  /// `h5dump -H path`, or nil (after saying so) when h5dump is not installed.
  static func h5dumpHeader(_ path: String) throws -> String? {
    guard
      let h5dump = ["/usr/bin/h5dump", "/usr/local/bin/h5dump"].first(where: {
        FileManager.default.isExecutableFile(atPath: $0)
      })
    else {
      print("skipped: h5dump is not installed (apt-get install hdf5-tools)")
      return nil
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: h5dump)
    process.arguments = ["-H", path]
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    #expect(process.terminationStatus == 0)
    return output
  }

  @Test func h5dumpListsDatasetsShapesAndAttributes() throws {
    let path = try HDF5RoundTripTests.scratchFile()
    try Self.writeSample(to: path)
    guard let output = try Self.h5dumpHeader(path) else { return }
    #expect(output.contains("DATASET \"images\""))
    #expect(output.contains("H5T_IEEE_F32LE"))
    #expect(output.contains("SIMPLE { ( 300, 10, 10 ) / ( 300, 10, 10 ) }"))
    #expect(output.contains("DATASET \"labels\""))
    #expect(output.contains("H5T_STD_I64LE"))
    #expect(output.contains("ATTRIBUTE \"scaling\""))
    #expect(output.contains("ATTRIBUTE \"seeds\""))
    #expect(output.contains("ATTRIBUTE \"count\""))
    #expect(output.contains("DATASET \"provenance\""))
  }

  #if !((os(macOS) || targetEnvironment(macCatalyst)) && arch(x86_64))
    /// The reference tool sees a 16-bit IEEE float, as it does in files h5py writes for
    /// `numpy.float16` (HDF5 1.10 has no name for the type, so it spells out its layout).
    @Test func h5dumpShowsHalvesAsSixteenBitFloats() throws {
      let path = try HDF5RoundTripTests.scratchFile()
      let file = try HDF5File.create(path)
      try file.write([1, -2, 0.5] as [Float16], shape: [3], to: "half")
      try file.close()
      guard let output = try Self.h5dumpHeader(path) else { return }
      #expect(output.contains("16-bit little-endian floating-point 16-bit precision"), "\(output)")
    }
  #endif
}
