/// Lays out report nodes as GitHub-flavoured Markdown.
enum MarkdownWriter {
  static func write(_ nodes: [ReportNode]) -> String {
    let chunks = nodes.map(chunk).filter { !$0.isEmpty }
    return chunks.joined(separator: "\n\n") + "\n"
  }

  private static func chunk(_ node: ReportNode) -> String {
    switch node {
    case .prose(let segments):
      let text = segments.map { segment -> String in
        switch segment {
        case .markdown(let markdown): markdown
        case .value(let value): TextFormatting.markdownEscaped(value)
        }
      }.joined()
      return trimmingBlankLines(text)
    case .heading(let level, let text, _):
      return String(repeating: "#", count: level) + " " + TextFormatting.markdownEscaped(text)
    case .paragraph(let inlines):
      return inline(inlines)
    case .notice(let notice):
      var lines = [inline(notice.body)]
      if let table = notice.table { lines += ["", self.table(table)] }
      return lines.joined(separator: "\n").split(separator: "\n", omittingEmptySubsequences: false)
        .map { $0.isEmpty ? ">" : "> " + $0 }.joined(separator: "\n")
    case .figure(let figure):
      let heading =
        "**\(figure.label).**" + (figure.title.map { " " + HTMLWriter.sentence($0) } ?? "")
      let alt = TextFormatting.markdownEscaped(
        figure.label + (figure.title.map { ": " + $0 } ?? "")
      )
      let caption = (figure.caption.map { $0 + " " } ?? "") + inline(figure.description)
      return heading + "\n\n![\(alt)](\(figure.svgPath))\n\n" + caption
    case .table(let table):
      var parts: [String] = []
      if let label = table.label {
        parts.append("**\(label).**" + (table.caption.map { " " + $0 } ?? ""))
      }
      parts.append(self.table(table))
      parts += table.notes.map { "*Note:* " + TextFormatting.markdownEscaped($0) }
      return parts.joined(separator: "\n\n")
    }
  }

  private static func table(_ table: TableNode) -> String {
    let header =
      "| " + table.columns.map(TextFormatting.markdownEscaped).joined(separator: " | ")
      + " |"
    let rule =
      "|"
      + table.columns.indices.map {
        table.numericColumns.contains($0) ? " ---: " : " --- "
      }.joined(separator: "|") + "|"
    let rows = table.rows.map { row in
      "| " + row.map(inline).joined(separator: " | ") + " |"
    }
    return ([header, rule] + rows).joined(separator: "\n")
  }

  private static func inline(_ inlines: [Inline]) -> String {
    inlines.map { piece -> String in
      switch piece {
      case .text(let text): TextFormatting.markdownEscaped(text)
      case .code(let code): TextFormatting.markdownCode(code)
      case .strong(let text): "**" + TextFormatting.markdownEscaped(text) + "**"
      case .link(let text, let path):
        "[" + TextFormatting.markdownEscaped(text) + "](" + path + ")"
      }
    }.joined()
  }

  private static func trimmingBlankLines(_ text: String) -> String {
    var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    while let first = lines.first, first.allSatisfy(\.isWhitespace) { lines.removeFirst() }
    while let last = lines.last, last.allSatisfy(\.isWhitespace) { lines.removeLast() }
    return lines.joined(separator: "\n")
  }
}
