import Foundation
import HDF5Store
import TestSupport
import Testing

// Swift has no Float16 on Intel Macs; everywhere else these run.
#if !((os(macOS) || targetEnvironment(macCatalyst)) && arch(x86_64))

  /// IEEE half precision (what h5py writes for `numpy.float16`) and converting reads.
  @Suite struct HDF5HalfPrecisionTests {
    /// Every kind of half: zeros, normals, the extremes, subnormals, infinities and a NaN.
    static let halves: [Float16] = [
      0, -Float16.zero, 1, -2.5, .pi, 65504, -65504, .leastNormalMagnitude, .leastNonzeroMagnitude,
      Float16(bitPattern: 0x03FF), .infinity, -.infinity, .nan,
    ]

    /// Sign, exponent and significand of each value, so that -0 differs from 0; every NaN is
    /// "nan" (HDF5 widens a NaN to a NaN, not necessarily with the same payload).
    static func bits<F: BinaryFloatingPoint>(_ values: [F]) -> [String] {
      values.map { value in
        value.isNaN
          ? "nan"
          : "\(value.sign == .minus ? "-" : "+")\(value.exponentBitPattern):"
            + "\(value.significandBitPattern)"
      }
    }

    static func file(with halves: [Float16], shape: [Int]) throws -> HDF5File {
      let path = try HDF5RoundTripTests.scratchFile("half.h5")
      let writer = try HDF5File.create(path)
      try writer.write(halves, shape: shape, to: "weights/half")
      try writer.close()
      return try HDF5File.open(path)
    }

    @Test func halvesRoundTripBitForBit() throws {
      let file = try Self.file(with: Self.halves, shape: [Self.halves.count])
      #expect(try file.info("weights/half") == HDF5DatasetInfo(elementType: .float16, shape: [13]))
      let read = try file.read("weights/half", as: Float16.self)
      #expect(read.values.map(\.bitPattern) == Self.halves.map(\.bitPattern))
      // The stored bytes are little-endian binary16 (1.0 = 0x3C00), so digests see the file's
      // bits.
      #expect(Array(try file.readRawBytes("weights/half").prefix(6)) == [0, 0, 0, 0x80, 0, 0x3C])
    }

    /// HDF5 widens halves to float32 and float64 exactly, specials included.
    @Test func halvesWidenExactly() throws {
      let file = try Self.file(with: Self.halves, shape: [1, Self.halves.count])
      let floats = try file.read("weights/half", wideningTo: Float.self)
      #expect(floats.shape == [1, 13])
      #expect(Self.bits(floats.values) == Self.bits(Self.halves.map(Float.init)))
      let doubles = try file.read("weights/half", wideningTo: Double.self)
      #expect(Self.bits(doubles.values) == Self.bits(Self.halves.map(Double.init)))
      // Reading without conversion stays strict.
      #expect(
        throws: HDF5Error.typeMismatch(
          file: file.path,
          object: "/weights/half",
          expected: "float32",
          found: "float16"
        )
      ) { try file.read("weights/half", as: Float.self) }
    }

    @Test func widerFloatsReadExactlyAndNarrowerOnesAreRefused() throws {
      let file = try HDF5File.create(try HDF5RoundTripTests.scratchFile())
      try file.write([1.5, -0.25, .leastNonzeroMagnitude] as [Float], shape: [3], to: "floats")
      try file.write([1 + 0x1p-24, 1e300] as [Double], shape: [2], to: "doubles")
      try file.write([1, 2] as [Int64], shape: [2], to: "ints")
      #expect(
        try file.read("floats", wideningTo: Double.self).values
          == [1.5, -0.25, Double(Float.leastNonzeroMagnitude)]
      )
      #expect(try file.read("floats", wideningTo: Float.self).values.first == 1.5)
      // Narrowing would round differently from Swift's Float(_:) and Float16(_:): refused.
      #expect(
        throws: HDF5Error.typeMismatch(
          file: file.path,
          object: "/doubles",
          expected: "float16, float32 (read wider floats with their own type and convert in "
            + "Swift)",
          found: "float64"
        )
      ) { try file.read("doubles", wideningTo: Float.self) }
      #expect(throws: HDF5Error.self) { try file.read("floats", wideningTo: Float16.self) }
      let integers = #expect(throws: HDF5Error.self) {
        try file.read("ints", wideningTo: Double.self)
      }
      #expect(integers?.description.contains("holds int64") == true)
    }
  }

#endif
