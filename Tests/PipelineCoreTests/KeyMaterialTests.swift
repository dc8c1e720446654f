import Foundation
import PipelineCore
import Testing

@Suite struct KeyMaterialTests {
  private static let log = ExecutionLog()
  private static let digest = String(repeating: "ab", count: 32)

  private static func material(
    _ parameters: Source.Parameters = .init(offset: 0.5, count: 3, label: "x"),
    inputs: [String: String] = ["raw": digest],
    seed: UInt64? = 42
  ) throws -> KeyMaterial {
    try KeyMaterial(
      stage: Source(parameters: parameters, log: log),
      inputDigests: inputs,
      seed: seed
    )
  }

  /// Pinned: a change here means every cached result in every store is invalidated.
  @Test func goldenKey() throws {
    let material = try Self.material()
    #expect(
      material.canonicalText
        == #"{"inputs":{"raw":"\#(Self.digest)"},"kind":"toy.source","parameters":{"count":3,"#
        + #""label":"x","offset":f64:3fe0000000000000},"schema":1,"seed":42,"version":1}"#
    )
    #expect(material.key == "b9cc4397dbdb62761072cfae99b42667f05e1b1ddef8d3cac99fed788051dd78")
  }

  enum Mutation: String, CaseIterable {
    case kind, version, offset, offsetByOneULP, count, label, inputDigest, inputName, seed, noSeed
    case schema
  }

  @Test(arguments: Mutation.allCases)
  func everyComponentChangesTheKey(_ mutation: Mutation) throws {
    let base = try Self.material()
    var changed = base
    switch mutation {
    case .kind:
      changed = try KeyMaterial(
        stage: Scale(parameters: .init(factor: 0.5), log: Self.log),
        inputDigests: ["raw": Self.digest],
        seed: 42
      )
    case .version: changed.version += 1
    case .offset: changed = try Self.material(.init(offset: 0.25, count: 3, label: "x"))
    case .offsetByOneULP:
      changed = try Self.material(.init(offset: 0.5.nextUp, count: 3, label: "x"))
    case .count: changed = try Self.material(.init(offset: 0.5, count: 4, label: "x"))
    case .label: changed = try Self.material(.init(offset: 0.5, count: 3, label: "y"))
    case .inputDigest:
      changed = try Self.material(inputs: ["raw": String(repeating: "cd", count: 32)])
    case .inputName: changed = try Self.material(inputs: ["other": Self.digest])
    case .seed: changed = try Self.material(seed: 43)
    case .noSeed: changed = try Self.material(seed: nil)
    case .schema: changed.schemaVersion += 1
    }
    #expect(changed.key != base.key)
    #expect(!changed.changes(from: base).isEmpty)
  }

  @Test func changesNameTheComponentWithOldAndNewValues() throws {
    let old = try Self.material()
    let new = try Self.material(.init(offset: 0.75, count: 3, label: "x"), seed: 1)
    #expect(
      new.changes(from: old) == [
        KeyChange(
          component: "parameters.offset",
          old: "f64:3fe0000000000000",
          new: "f64:3fe8000000000000"
        ),
        KeyChange(component: "seed", old: "42", new: "1"),
      ]
    )
    #expect(new.changes(from: old)[0].description.contains("(0.5) -> f64:3fe8000000000000 (0.75)"))
  }

  @Test func survivesJSONRoundTripWithLargeSeed() throws {
    let material = try Self.material(seed: .max)
    let data = try JSONEncoder().encode(material)
    let decoded = try JSONDecoder().decode(KeyMaterial.self, from: data)
    #expect(decoded == material)
    #expect(decoded.key == material.key)
  }
}
