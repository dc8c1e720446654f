import PipelineCore
import Testing

@Suite struct PipelineGraphTests {
  private let log = ExecutionLog()

  private func source(_ id: StageID) -> StageNode {
    StageNode(id: id, stage: Source(parameters: .init(offset: 0, count: 1), log: log))
  }

  private func scale(
    _ id: StageID,
    from upstream: StageID,
    artifact: String = "data"
  )
    -> StageNode
  {
    StageNode(
      id: id,
      stage: Scale(parameters: .init(factor: 1), log: log),
      inputs: ["data": .artifact(upstream, artifact)]
    )
  }

  @Test func ordersUpstreamsFirstAndKeepsInsertionOrderOtherwise() throws {
    // "b" was added first, so it comes as early as its upstream allows: before "c".
    let graph = try PipelineGraph([scale("b", from: "a"), source("a"), source("c")])
    #expect(try graph.topologicalOrder() == ["a", "b", "c"])
    #expect(graph.descendants(of: "a") == ["b"])
  }

  @Test func rejectsDuplicateIDs() {
    #expect(throws: PipelineError.self) { try PipelineGraph([source("a"), source("a")]) }
  }

  @Test func rejectsUnknownUpstreamsAndArtifacts() throws {
    #expect {
      try PipelineGraph([scale("b", from: "missing")]).validate()
    } throws: { error in
      guard case PipelineError.unknownUpstream(let stage, _, let upstream) = error else {
        return false
      }
      return stage == "b" && upstream == "missing"
    }
    #expect {
      try PipelineGraph([source("a"), scale("b", from: "a", artifact: "nope")]).validate()
    } throws: { error in
      guard case PipelineError.unknownArtifact(_, _, _, let artifact, let available) = error
      else { return false }
      return artifact == "nope" && available == ["data"]
    }
  }

  @Test func reportsCycles() throws {
    // Scale reads "data" but writes "scaled"; a cycle needs matching names, so use Scale's.
    let graph = try PipelineGraph([
      scale("x", from: "y", artifact: "scaled"), scale("y", from: "x", artifact: "scaled"),
    ])
    #expect {
      try graph.validate()
    } throws: { error in
      guard case PipelineError.cycle(let ids) = error else { return false }
      return Set(ids) == ["x", "y"] && ids.first == ids.last
    }
  }
}
