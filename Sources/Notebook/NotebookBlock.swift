/// One top-level piece of a ``NotebookDocument``.
public enum NotebookBlock: Sendable, Equatable {
  /// Markdown prose (including ordinary fenced code such as ```` ```swift ````), possibly with
  /// `{{value NAME}}` references.
  case prose(ProseBlock)
  /// The ```` ```dbal-experiment ```` block: which cells to run.
  case experiment(ExperimentBlock)
  /// A ```` ```dbal-figure ```` block: an accuracy-curve figure to draw.
  case figure(FigureBlock)
  /// A ```` ```dbal-table ```` block: a results table to fill in.
  case table(TableBlock)
  /// A ```` ```dbal-provenance ```` block: where the provenance section goes.
  case provenance(ProvenanceBlock)

  /// The 1-based line where the block starts (its opening fence, or its first prose line).
  public var line: Int {
    switch self {
    case .prose(let block): block.line
    case .experiment(let block): block.line
    case .figure(let block): block.line
    case .table(let block): block.line
    case .provenance(let block): block.line
    }
  }
}

// MARK: - Block kinds

/// The info strings that mark DBAL blocks, as written after the opening fence.
public enum BlockKind: String, Sendable, CaseIterable {
  /// ```` ```dbal-experiment ````
  case experiment = "dbal-experiment"
  /// ```` ```dbal-figure ````
  case figure = "dbal-figure"
  /// ```` ```dbal-table ````
  case table = "dbal-table"
  /// ```` ```dbal-provenance ````
  case provenance = "dbal-provenance"
}

/// Marks where the rendered provenance section goes; it has no keys.
public struct ProvenanceBlock: Sendable, Equatable {
  /// The 1-based line of the opening fence.
  public var line: Int

  /// Creates a marker at `line`.
  public init(line: Int) {
    self.line = line
  }
}
