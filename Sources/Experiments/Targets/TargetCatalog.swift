import Foundation
import Notebook

/// The targets a user can reproduce: one literate document `Pipelines/<target>.md` each.
/// Adding an experiment means adding a document; no Swift changes.
public struct TargetCatalog: Sendable {
  /// The folder holding the documents.
  public let directory: URL

  /// A catalog over `directory` (by default `Pipelines/` in the current directory).
  public init(directory: URL) { self.directory = directory }

  /// The target names, sorted (every `*.md` except `README.md`).
  public func names() -> [String] {
    let files = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
    return files.filter { $0.hasSuffix(".md") && $0 != "README.md" }
      .map { String($0.dropLast(3)) }.sorted()
  }

  /// Parses the document of `target`; errors name the file and line.
  public func document(_ target: String) throws -> NotebookDocument {
    let url = directory.appendingPathComponent("\(target).md")
    guard !target.contains("/"), FileManager.default.fileExists(atPath: url.path) else {
      throw ExperimentError.unknownTarget(target, known: names(), directory: directory.path)
    }
    return try NotebookDocument(contentsOf: url)
  }

  /// The first non-heading prose line of each document, for `pipeline list`.
  public func summary(of target: String) -> String {
    let url = directory.appendingPathComponent("\(target).md")
    guard let text = try? String(contentsOf: url, encoding: .utf8) else { return "" }
    var inFence = false
    for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
      if line.hasPrefix("```") { inFence.toggle(); continue }
      if inFence || line.hasPrefix("#") || line.hasPrefix(">") { continue }
      let trimmed = line.trimmingCharacters(in: .whitespaces)
      if !trimmed.isEmpty { return trimmed }
    }
    return ""
  }
}
