import PipelineCore
import Testing

@Suite struct CanonicalJSONEncoderTests {
  private struct Nested: Codable {
    var name: String
    var values: [Double]
    var flag: Bool?
  }

  @Test func sortsKeysAndEncodesFloatsByBitPattern() throws {
    let text = try CanonicalJSONEncoder().encode(
      Nested(name: "a\"b\n", values: [1.0, -0.0], flag: nil)
    )
    #expect(
      text == #"{"name":"a\"b\u000a","values":[f64:3ff0000000000000,f64:8000000000000000]}"#
    )
  }

  @Test func dictionaryInsertionOrderDoesNotMatter() throws {
    var forward: [String: Int] = [:]
    var backward: [String: Int] = [:]
    let keys = (0..<50).map { "key\($0)" }
    for (index, key) in keys.enumerated() { forward[key] = index }
    for (index, key) in keys.enumerated().reversed() { backward[key] = index }
    let encoder = CanonicalJSONEncoder()
    #expect(try encoder.encode(forward) == encoder.encode(backward))
  }

  @Test func signedZerosDifferAndNaNEncodes() throws {
    let encoder = CanonicalJSONEncoder()
    #expect(try encoder.encode(0.0) != encoder.encode(-0.0))
    #expect(try encoder.encode(Double.nan) == "f64:7ff8000000000000")
    #expect(try encoder.encode(Float(1)) == "f32:3f800000")
    #expect(try encoder.encode(1.0) != encoder.encode(1.0.nextUp))
  }

  @Test func readableShowsNumbersButLeavesStringsAlone() {
    let text = #"{"a":f64:3ff0000000000000,"b":"f64:3ff0000000000000"}"#
    #expect(
      CanonicalJSONEncoder.readable(text)
        == #"{"a":f64:3ff0000000000000 (1.0),"b":"f64:3ff0000000000000"}"#
    )
  }
}
