import Foundation

/// A parsed literate target document (`Pipelines/<name>.md`): Markdown prose interleaved with
/// `dbal-*` blocks that declare an experiment and the figures and tables to render from it.
///
/// Parse one with ``init(parsing:fileName:)`` or ``init(contentsOf:)``; every problem is
/// reported as a ``NotebookError`` naming the file and the 1-based line to fix.
public struct NotebookDocument: Sendable, Equatable {
  /// The file name used in messages and to name rendered reports (for example `fig2.md`).
  public var fileName: String
  /// The text of the first `# ` heading outside code fences, if there is one.
  public var title: String?
  /// The 1-based line of the title heading, if there is one.
  public var titleLine: Int?
  /// Prose and blocks in document order.
  public var blocks: [NotebookBlock]

  /// Creates a document from already parsed parts (the parser validates; this does not).
  public init(fileName: String, title: String?, titleLine: Int?, blocks: [NotebookBlock]) {
    self.fileName = fileName
    self.title = title
    self.titleLine = titleLine
    self.blocks = blocks
  }

  // MARK: - Convenience views

  /// The document name without extension (`fig2` for `fig2.md`), used for report file names.
  public var name: String {
    let base = (fileName as NSString).lastPathComponent
    let stem = (base as NSString).deletingPathExtension
    return stem.isEmpty ? base : stem
  }

  /// The document's single experiment declaration.
  ///
  /// A parsed document always has exactly one; a hand-built document without one is a
  /// programmer error.
  public var experiment: ExperimentBlock {
    for case .experiment(let experiment) in blocks { return experiment }
    preconditionFailure("NotebookDocument '\(fileName)' has no dbal-experiment block")
  }

  /// The figure blocks in document order.
  public var figures: [FigureBlock] {
    blocks.compactMap { if case .figure(let figure) = $0 { figure } else { nil } }
  }

  /// The table blocks in document order.
  public var tables: [TableBlock] {
    blocks.compactMap { if case .table(let table) = $0 { table } else { nil } }
  }

  /// Every `{{value NAME}}` reference in the prose, in document order.
  public var valueReferences: [ValueReference] {
    blocks.flatMap { block -> [ValueReference] in
      guard case .prose(let prose) = block else { return [] }
      return prose.valueReferences
    }
  }
}
