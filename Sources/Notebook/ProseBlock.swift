/// A run of Markdown prose between DBAL blocks, split into literal text and value references.
public struct ProseBlock: Sendable, Equatable {
  /// The 1-based line of the first prose line.
  public var line: Int
  /// Literal Markdown and `{{value NAME}}` references, in order; concatenating the text with
  /// each reference replaced by its value gives the rendered prose.
  public var segments: [ProseSegment]

  /// Creates a prose block starting at `line`.
  public init(line: Int, segments: [ProseSegment]) {
    self.line = line
    self.segments = segments
  }

  /// The value references in this block, in order.
  public var valueReferences: [ValueReference] {
    segments.compactMap { if case .value(let reference) = $0 { reference } else { nil } }
  }
}

/// A piece of prose: literal Markdown, or a reference to a value the pipeline computes.
public enum ProseSegment: Sendable, Equatable {
  /// Markdown copied to the report unchanged (newlines included).
  case text(String)
  /// A `{{value NAME}}` reference, replaced by the named value when rendering.
  case value(ValueReference)
}

/// A `{{value NAME}}` reference in prose.
public struct ValueReference: Sendable, Equatable, Hashable {
  /// The value's name, for example `final.mc.bald.bayesian`.
  public var name: String
  /// The 1-based line the reference is on, for error messages.
  public var line: Int

  /// Creates a reference to `name` on `line`.
  public init(name: String, line: Int) {
    self.name = name
    self.line = line
  }
}
