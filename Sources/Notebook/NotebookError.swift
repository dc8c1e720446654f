/// A problem in a literate document, located by file and 1-based line, with how to fix it.
///
/// The ``description`` reads like a compiler diagnostic:
/// `fig2.md:14: unknown key 'panel' in dbal-figure block; allowed keys: id, panels, ...`.
public struct NotebookError: Error, Sendable, Equatable, CustomStringConvertible {
  /// The document's file name.
  public var file: String
  /// The 1-based line of the offending text (for a missing key: the block's opening fence).
  public var line: Int
  /// What is wrong.
  public var problem: Problem

  /// Creates an error at `file:line`.
  public init(file: String, line: Int, problem: Problem) {
    self.file = file
    self.line = line
    self.problem = problem
  }

  /// The kinds of problem, each carrying what is needed to explain and fix it.
  public enum Problem: Sendable, Equatable {
    /// The file could not be read.
    case unreadable(reason: String)
    /// A fence opened with an unknown `dbal-` info string.
    case unknownBlockKind(kind: String)
    /// A fence (DBAL or ordinary) is never closed.
    case unterminatedFence(fence: String)
    /// A block body line is not `key: value`, a `#` comment or blank.
    case malformedLine(text: String)
    /// A key the block kind does not have.
    case unknownKey(key: String, block: BlockKind, allowed: [String])
    /// A key appears twice in one block.
    case duplicateKey(key: String, block: BlockKind, firstLine: Int)
    /// A required key is absent.
    case missingKey(key: String, block: BlockKind)
    /// A value is not one the key accepts.
    case invalidValue(key: String, value: String, expected: String)
    /// A figure or table id is used twice.
    case duplicateID(id: String, firstLine: Int)
    /// The document has no `dbal-experiment` block.
    case missingExperiment
    /// A second block that may appear only once (`dbal-experiment`, `dbal-provenance`).
    case duplicateBlock(block: BlockKind, firstLine: Int)
    /// A `{{ ... }}` in prose that is not `{{value NAME}}`.
    case malformedValueReference(text: String)
  }

  /// A one-line diagnostic: location, what is wrong, and how to fix it.
  public var description: String {
    "\(file):\(line): \(explanation)"
  }

  private var explanation: String {
    switch problem {
    case .unreadable(let reason):
      return "cannot read the document (\(reason)); check the path and permissions"
    case .unknownBlockKind(let kind):
      let allowed = BlockKind.allCases.map(\.rawValue).joined(separator: ", ")
      return "unknown block '\(kind)'; DBAL blocks are \(allowed)"
    case .unterminatedFence(let fence):
      return "code fence '\(fence)' is never closed; add a closing '\(fence.prefix(3))' line"
    case .malformedLine(let text):
      return "expected 'key: value', a '#' comment or a blank line, found '\(text)'"
    case .unknownKey(let key, let block, let allowed):
      if allowed.isEmpty {
        return "\(block.rawValue) blocks take no keys, found '\(key)'; leave the block empty"
      }
      return "unknown key '\(key)' in \(block.rawValue) block; allowed keys: "
        + allowed.joined(separator: ", ")
    case .duplicateKey(let key, let block, let firstLine):
      return "key '\(key)' given twice in \(block.rawValue) block (first on line \(firstLine));"
        + " keep one"
    case .missingKey(let key, let block):
      return "\(block.rawValue) block is missing the required key '\(key)'; add '\(key): ...'"
    case .invalidValue(let key, let value, let expected):
      return "invalid value '\(value)' for '\(key)'; expected \(expected)"
    case .duplicateID(let id, let firstLine):
      return "id '\(id)' is already used on line \(firstLine); figure and table ids must be"
        + " unique within a document"
    case .missingExperiment:
      return "no dbal-experiment block; add one declaring 'acquisitions:' and 'models:'"
    case .duplicateBlock(let block, let firstLine):
      return "second \(block.rawValue) block (the first is on line \(firstLine)); a document"
        + " has at most one"
    case .malformedValueReference(let text):
      return "malformed inline value '\(text)'; write '{{value NAME}}' with NAME made of"
        + " letters, digits, '.', '-' and '_'"
    }
  }
}
