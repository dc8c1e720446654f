/// A declared set of stage nodes and the artifact dependencies between them.
///
/// Nodes may be added in any order; ``validate()`` (called by every runner operation) checks
/// that each input names an existing upstream stage and one of its declared artifacts, that
/// output names are usable, and that there is no cycle.
public struct PipelineGraph: Sendable {
  private var nodesByID: [StageID: StageNode] = [:]
  private var insertionOrder: [StageID] = []

  /// Creates an empty graph.
  public init() {}

  /// Creates a graph from nodes.
  ///
  /// - Throws: ``PipelineError/duplicateStage(_:)`` if two nodes share an id.
  public init(_ nodes: [StageNode]) throws {
    for node in nodes { try add(node) }
  }

  /// The nodes in the order they were added.
  public var nodes: [StageNode] { insertionOrder.map { nodesByID[$0]! } }

  /// The node with the given id, if any.
  public subscript(id: StageID) -> StageNode? { nodesByID[id] }

  /// Adds a node.
  ///
  /// - Throws: ``PipelineError/duplicateStage(_:)`` if a node with the same id exists.
  public mutating func add(_ node: StageNode) throws {
    guard nodesByID[node.id] == nil else { throw PipelineError.duplicateStage(node.id) }
    nodesByID[node.id] = node
    insertionOrder.append(node.id)
  }

  /// Checks every input reference, every output name and the absence of cycles.
  public func validate() throws {
    _ = try topologicalOrder()
  }

  /// The node ids ordered so that every stage comes after the stages it reads from; among
  /// independent stages, insertion order is kept (so listings are stable).
  ///
  /// - Throws: a ``PipelineError`` for an unknown upstream or artifact, an unusable output
  ///   name, or a cycle.
  public func topologicalOrder() throws -> [StageID] {
    try checkReferences()
    var remainingUpstreams: [StageID: Int] = [:]
    var downstreams: [StageID: [StageID]] = [:]
    for id in insertionOrder {
      let upstreams = nodesByID[id]!.upstreamIDs
      remainingUpstreams[id] = upstreams.count
      for upstream in upstreams { downstreams[upstream, default: []].append(id) }
    }
    let position = Dictionary(uniqueKeysWithValues: insertionOrder.enumerated().map { ($1, $0) })
    // Kahn's algorithm; the ready set is kept sorted by insertion position for stability.
    var ready = insertionOrder.filter { remainingUpstreams[$0] == 0 }
    var order: [StageID] = []
    while !ready.isEmpty {
      let id = ready.removeFirst()
      order.append(id)
      for downstream in downstreams[id, default: []] {
        remainingUpstreams[downstream]! -= 1
        if remainingUpstreams[downstream] == 0 {
          let index = ready.firstIndex { position[$0]! > position[downstream]! } ?? ready.endIndex
          ready.insert(downstream, at: index)
        }
      }
    }
    guard order.count == insertionOrder.count else {
      throw PipelineError.cycle(findCycle(among: Set(insertionOrder).subtracting(order)))
    }
    return order
  }

  /// The ids of all stages that depend, directly or not, on `id`.
  public func descendants(of id: StageID) -> Set<StageID> {
    var downstreams: [StageID: [StageID]] = [:]
    for node in nodes {
      for upstream in node.upstreamIDs { downstreams[upstream, default: []].append(node.id) }
    }
    var found: Set<StageID> = []
    var frontier = [id]
    while let next = frontier.popLast() {
      for downstream in downstreams[next, default: []] where found.insert(downstream).inserted {
        frontier.append(downstream)
      }
    }
    return found
  }

  // MARK: - Validation

  private func checkReferences() throws {
    for id in insertionOrder {
      let node = nodesByID[id]!
      var seen: Set<String> = []
      for name in node.stage.outputs {
        guard ArtifactStore.isValidArtifactName(name), seen.insert(name).inserted else {
          throw PipelineError.invalidArtifactName(stage: id, name: name)
        }
      }
      for (input, source) in node.inputs.sorted(by: { $0.key < $1.key }) {
        guard case .artifact(let upstream, let artifact) = source else { continue }
        guard let upstreamNode = nodesByID[upstream] else {
          throw PipelineError.unknownUpstream(stage: id, input: input, upstream: upstream)
        }
        guard upstreamNode.stage.outputs.contains(artifact) else {
          throw PipelineError.unknownArtifact(
            stage: id,
            input: input,
            upstream: upstream,
            artifact: artifact,
            available: upstreamNode.stage.outputs
          )
        }
      }
    }
  }

  /// One cycle among `candidates` (the nodes Kahn's algorithm could not order), in order.
  private func findCycle(among candidates: Set<StageID>) -> [StageID] {
    // Every candidate has an upstream among the candidates; walk upstream until a node repeats.
    guard var current = insertionOrder.first(where: candidates.contains) else { return [] }
    var path: [StageID] = []
    var indexInPath: [StageID: Int] = [:]
    while indexInPath[current] == nil {
      indexInPath[current] = path.count
      path.append(current)
      current = nodesByID[current]!.upstreamIDs.first(where: candidates.contains)!
    }
    let cycle = Array(path[indexInPath[current]!...]).reversed()
    return Array(cycle) + [cycle.first!]
  }
}
