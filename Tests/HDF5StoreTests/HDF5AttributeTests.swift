import HDF5Store
import TestSupport
import Testing

/// Attributes of every kind round-trip, replace, and list.
@Suite struct HDF5AttributeTests {
  static let values: [HDF5AttributeValue] = [
    .string("x/255"), .string(""), .string("naïve ✓"), .int(-42), .int(.max), .double(0.1),
    .double(-.infinity), .ints([1, -2, 3]), .ints([]), .doubles([0.5, 1e-300]), .doubles([7]),
  ]

  @Test(arguments: values)
  func roundTripsOnRootAndDataset(value: HDF5AttributeValue) throws {
    let path = try HDF5RoundTripTests.scratchFile()
    let file = try HDF5File.create(path)
    try file.write([1, 2, 3] as [Float], shape: [3], to: "g/data")
    try file.setAttribute("value", value)
    try file.setAttribute("value", value, on: "g/data")
    try file.setAttribute("value", value, on: "/g")
    try file.close()
    let reopened = try HDF5File.open(path)
    #expect(try reopened.attribute("value") == value)
    #expect(try reopened.attribute("value", on: "/g/data") == value)
    #expect(try reopened.attribute("value", on: "g") == value)
  }

  @Test func setAttributeReplacesAndNamesAreSorted() throws {
    let file = try HDF5File.create(try HDF5RoundTripTests.scratchFile())
    try file.setAttribute("zeta", .int(1))
    try file.setAttribute("alpha", .string("first"))
    try file.setAttribute("alpha", .doubles([2, 3]))
    #expect(try file.attribute("alpha") == .doubles([2, 3]))
    #expect(try file.attributeNames() == ["alpha", "zeta"])
    #expect(try file.attributeNames(on: "/") == ["alpha", "zeta"])
  }

  @Test func missingAttributeNamesObjectAndAttribute() throws {
    let file = try HDF5File.create(try HDF5RoundTripTests.scratchFile())
    #expect(throws: HDF5Error.objectNotFound(file: file.path, object: "/ @absent")) {
      try file.attribute("absent")
    }
    #expect(throws: HDF5Error.objectNotFound(file: file.path, object: "/nowhere")) {
      try file.setAttribute("a", .int(1), on: "nowhere")
    }
  }
}
