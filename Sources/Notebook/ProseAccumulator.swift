import Foundation

/// Collects consecutive prose lines into a ``ProseBlock``, splitting out `{{value NAME}}`.
struct ProseAccumulator {
  let file: String
  private var firstLine: Int?
  private var segments: [ProseSegment] = []
  private var pendingText = ""

  init(file: String) {
    self.file = file
  }

  /// Adds a prose line, parsing its inline value references.
  mutating func append(_ line: NumberedLine) throws(NotebookError) {
    if firstLine == nil { firstLine = line.number }
    var rest = Substring(line.text)
    while let open = rest.range(of: "{{") {
      // Text inside an inline code span (`like this`) is literal, so `{{` there is not a value.
      if let span = Self.codeSpan(in: rest), span.lowerBound < open.lowerBound {
        pendingText += rest[..<span.upperBound]
        rest = rest[span.upperBound...]
        continue
      }
      pendingText += rest[..<open.lowerBound]
      let afterOpen = rest[open.upperBound...]
      guard let close = afterOpen.range(of: "}}") else {
        throw malformed(String(rest[open.lowerBound...]), line: line.number)
      }
      let written = String(rest[open.lowerBound..<close.upperBound])
      let words = afterOpen[..<close.lowerBound].split(whereSeparator: { $0 == " " || $0 == "\t" })
      guard words.count == 2, words[0] == "value", Self.isValueName(words[1]) else {
        throw malformed(written, line: line.number)
      }
      flushText()
      segments.append(.value(ValueReference(name: String(words[1]), line: line.number)))
      rest = afterOpen[close.upperBound...]
    }
    pendingText += rest
    pendingText += "\n"
  }

  /// Adds lines copied verbatim (an ordinary fenced code block).
  mutating func appendVerbatim(_ lines: ArraySlice<NumberedLine>) {
    if firstLine == nil { firstLine = lines.first?.number }
    for line in lines { pendingText += line.text + "\n" }
  }

  /// The block collected so far (nil when empty), and a reset for the next run of prose.
  mutating func finish() -> ProseBlock? {
    flushText()
    defer {
      firstLine = nil
      segments = []
    }
    guard let firstLine, !segments.isEmpty else { return nil }
    return ProseBlock(line: firstLine, segments: segments)
  }

  // MARK: - Helpers

  private mutating func flushText() {
    guard !pendingText.isEmpty else { return }
    segments.append(.text(pendingText))
    pendingText = ""
  }

  private func malformed(_ text: String, line: Int) -> NotebookError {
    NotebookError(file: file, line: line, problem: .malformedValueReference(text: text))
  }

  /// The first complete inline code span in `text` (a run of backticks up to the next run of
  /// the same length on the same line), or nil.
  static func codeSpan(in text: Substring) -> Range<Substring.Index>? {
    var searchStart = text.startIndex
    while let start = text[searchStart...].firstIndex(of: "`") {
      let opening = text[start...].prefix { $0 == "`" }
      var cursor = opening.endIndex
      while let next = text[cursor...].firstIndex(of: "`") {
        let closing = text[next...].prefix { $0 == "`" }
        if closing.count == opening.count { return start..<closing.endIndex }
        cursor = closing.endIndex
      }
      searchStart = opening.endIndex  // unmatched: the backticks are literal
    }
    return nil
  }

  /// Value names: ASCII letters, digits, `.`, `-` and `_`.
  static func isValueName(_ name: Substring) -> Bool {
    !name.isEmpty
      && name.unicodeScalars.allSatisfy {
        BlockBody.isIdentifierScalar($0) || $0 == "."
      }
  }
}
