/// One stage instance in a ``PipelineGraph``: what to run, on which inputs, with which seed.
public struct StageNode: Sendable {
  /// The node's identity in the graph.
  public var id: StageID
  /// The stage value: kind, version, parameters and the logic to run.
  public var stage: any Stage
  /// The stage's inputs by name; ``StageContext/inputURL(_:)`` resolves these names.
  public var inputs: [String: StageInput]
  /// The seed of the stage's randomness, if it has any; part of the cache key.
  public var seed: UInt64?
  /// Display metadata: the group the stage belongs to (for example an experiment cell id).
  public var group: String?
  /// Display metadata: the active-learning round, for grouping hundreds of rounds in `status`.
  public var round: Int?

  /// Creates a graph node.
  ///
  /// `group` and `round` only organise listings; they never enter the cache key.
  public init(
    id: StageID,
    stage: any Stage,
    inputs: [String: StageInput] = [:],
    seed: UInt64? = nil,
    group: String? = nil,
    round: Int? = nil
  ) {
    self.id = id
    self.stage = stage
    self.inputs = inputs
    self.seed = seed
    self.group = group
    self.round = round
  }

  /// The ids of the stages whose artifacts this node reads, sorted and without duplicates.
  public var upstreamIDs: [StageID] {
    Array(Set(inputs.values.compactMap(\.upstream))).sorted()
  }
}
