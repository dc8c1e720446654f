import Foundation

extension NotebookDocument {
  /// Parses `text` as a literate document.
  ///
  /// - Parameters:
  ///   - text: The document's Markdown.
  ///   - fileName: The name used in error messages and for report file names (`fig2.md`).
  /// - Throws: ``NotebookError`` locating the first problem by line.
  public init(parsing text: String, fileName: String) throws(NotebookError) {
    self = try NotebookParser(text: text, file: fileName).parse()
  }

  /// Reads and parses the UTF-8 document at `url`; errors name the file's last path component.
  ///
  /// - Throws: ``NotebookError`` if the file cannot be read or is malformed.
  public init(contentsOf url: URL) throws(NotebookError) {
    let text: String
    do {
      text = try String(contentsOf: url, encoding: .utf8)
    } catch {
      throw NotebookError(
        file: url.path,
        line: 1,
        problem: .unreadable(reason: error.localizedDescription)
      )
    }
    try self.init(parsing: text, fileName: url.lastPathComponent)
  }
}
