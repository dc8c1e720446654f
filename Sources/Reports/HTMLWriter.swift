import Foundation
internal import Ink

/// Lays out report nodes as one self-contained HTML page: inline CSS and SVG, no scripts and
/// no external resources, readable on a phone and printable.
///
/// Document prose goes through Ink. Everything that comes from data (values, table cells,
/// provenance) is escaped here; values are spliced in after Ink ran, via placeholders, so
/// Markdown never reinterprets them.
enum HTMLWriter {
  static func write(_ nodes: [ReportNode], title: String) -> String {
    var body = ""
    for node in nodes { body += html(node) + "\n" }
    return """
      <!DOCTYPE html>
      <html lang="en">
      <head>
      <meta charset="utf-8">
      <meta name="viewport" content="width=device-width, initial-scale=1">
      <meta name="generator" content="DBAL pipeline">
      <title>\(TextFormatting.xmlEscaped(title))</title>
      <style>
      \(stylesheet)
      </style>
      </head>
      <body>
      <main>
      \(body)</main>
      </body>
      </html>

      """
  }

  // MARK: - Nodes

  private static func html(_ node: ReportNode) -> String {
    switch node {
    case .prose(let segments):
      return prose(segments)
    case .heading(let level, let text, let anchor):
      return "<h\(level) id=\"\(anchor)\">\(TextFormatting.xmlEscaped(text))</h\(level)>"
    case .paragraph(let inlines):
      return "<p>\(inline(inlines))</p>"
    case .notice(let notice):
      var html =
        "<aside class=\"notice notice-\(notice.kind.rawValue)\" role=\"note\">"
        + "<p>\(inline(notice.body))</p>"
      if let table = notice.table { html += self.table(table) }
      return html + "</aside>"
    case .figure(let figure):
      var html = "<figure class=\"dbal-figure\" id=\"figure-\(figure.id)\">\n"
      html +=
        "<div class=\"dbal-panels\">\n" + figure.inlinePanels.joined(separator: "\n")
        + "\n</div>\n<figcaption><strong>\(figure.label).</strong>"
      if let title = figure.title { html += " " + markdownInline(Self.sentence(title)) }
      if let caption = figure.caption { html += " " + markdownInline(caption) }
      html +=
        " " + inline(figure.description)
        + " <a href=\"\(TextFormatting.xmlEscaped(figure.svgPath))\">SVG</a></figcaption>\n"
      return html + "</figure>"
    case .table(let table):
      var html = self.table(table)
      for note in table.notes {
        html += "\n<p class=\"table-note\"><em>Note:</em> \(TextFormatting.xmlEscaped(note))</p>"
      }
      return html
    }
  }

  private static func prose(_ segments: [ResolvedSegment]) -> String {
    var markdown = ""
    var values: [String] = []
    for segment in segments {
      switch segment {
      case .markdown(let text):
        markdown += text
      case .value(let value):
        markdown += placeholder(values.count)
        values.append(value)
      }
    }
    var html = MarkdownParser().html(from: markdown)
    for (index, value) in values.enumerated().reversed() {  // "…10…" before "…1…"
      html = html.replacingOccurrences(
        of: placeholder(index),
        with: "<span class=\"value\">"
          + TextFormatting.xmlEscaped(value) + "</span>"
      )
    }
    return html
  }

  /// `text` ending in sentence punctuation, so a caption can follow it.
  static func sentence(_ text: String) -> String {
    guard let last = text.last, !".!?:".contains(last) else { return text }
    return text + "."
  }

  /// A token Ink leaves alone: private-use characters around a number.
  private static func placeholder(_ index: Int) -> String {
    "\u{E000}\(index)\u{E001}"
  }

  /// Author Markdown rendered inline (Ink's paragraph wrapper removed).
  private static func markdownInline(_ markdown: String) -> String {
    var html = MarkdownParser().html(from: markdown)
    if html.hasPrefix("<p>") && html.hasSuffix("</p>") {
      html = String(html.dropFirst(3).dropLast(4))
    }
    return html
  }

  private static func table(_ table: TableNode) -> String {
    func cellClass(_ column: Int) -> String {
      table.numericColumns.contains(column) ? " class=\"num\"" : ""
    }
    var html = "<div class=\"table-wrap\"><table>"
    if let label = table.label {
      html +=
        "<caption><strong>\(TextFormatting.xmlEscaped(label)).</strong>"
        + (table.caption.map { " " + markdownInline($0) } ?? "") + "</caption>"
    }
    html += "<thead><tr>"
    for (column, name) in table.columns.enumerated() {
      html += "<th\(cellClass(column))>\(TextFormatting.xmlEscaped(name))</th>"
    }
    html += "</tr></thead><tbody>"
    for row in table.rows {
      html += "<tr>"
      for (column, cell) in row.enumerated() {
        html += "<td\(cellClass(column))>\(inline(cell))</td>"
      }
      html += "</tr>"
    }
    return html + "</tbody></table></div>"
  }

  private static func inline(_ inlines: [Inline]) -> String {
    inlines.map { piece -> String in
      switch piece {
      case .text(let text): TextFormatting.xmlEscaped(text)
      case .code(let code):
        // Digests and paths may wrap anywhere on a phone; short names stay whole.
        (code.count > 24 ? "<code class=\"long\">" : "<code>") + TextFormatting.xmlEscaped(code)
          + "</code>"
      case .strong(let text): "<strong>" + TextFormatting.xmlEscaped(text) + "</strong>"
      case .link(let text, let path):
        "<a href=\"\(TextFormatting.xmlEscaped(path))\">\(TextFormatting.xmlEscaped(text))</a>"
      }
    }.joined()
  }

  // MARK: - Style

  /// System fonts only (no downloads); a readable measure; wrapping figures on phones; print
  /// rules that keep figures and tables whole.
  static let stylesheet = """
    :root { color-scheme: light; }
    body { margin: 0; background: #ffffff; color: #1d1d1f;
      font: 16px/1.55 -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; }
    main { max-width: 62rem; margin: 0 auto; padding: 1.5rem 1rem 3rem; }
    h1 { font-size: 1.85rem; line-height: 1.25; margin: 0.5rem 0 1rem; }
    h2 { font-size: 1.4rem; margin-top: 2.2rem; border-bottom: 1px solid #e5e5e5; padding-bottom: 0.2rem; }
    h3 { font-size: 1.12rem; margin-top: 1.6rem; }
    p, ul, ol { max-width: 46rem; }
    a { color: #0b5cad; }
    code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 0.86em;
      background: #f3f3f5; padding: 0.1em 0.3em; border-radius: 3px; }
    pre { background: #f6f6f8; padding: 0.8rem 1rem; border-radius: 4px; overflow-x: auto; }
    pre code { background: none; padding: 0; }
    .value { font-weight: 600; font-variant-numeric: tabular-nums; }
    .table-wrap { overflow-x: auto; margin: 1rem 0; }
    table { border-collapse: collapse; font-size: 0.92rem; }
    caption { caption-side: top; text-align: left; padding-bottom: 0.4rem; }
    th, td { text-align: left; vertical-align: top; padding: 0.35rem 0.7rem; border-bottom: 1px solid #e2e2e2; }
    thead th { border-bottom: 2px solid #888888; }
    code.long { overflow-wrap: anywhere; }
    .num { text-align: right; font-variant-numeric: tabular-nums; }
    .table-note { font-size: 0.88rem; color: #444444; }
    figure { margin: 1.8rem 0; }
    .dbal-panels { display: flex; flex-wrap: wrap; justify-content: center; gap: 0.5rem; }
    .dbal-panels svg { flex: 1 1 17rem; max-width: 27rem; width: 100%; height: auto; }
    figcaption { font-size: 0.92rem; color: #333333; margin-top: 0.6rem; max-width: 46rem; }
    .notice { margin: 1rem 0 1.5rem; padding: 0.7rem 1rem; border-left: 5px solid #e6a100;
      background: #fff7e0; border-radius: 3px; }
    .notice p { margin: 0.2rem 0; }
    .notice-partial { border-left-color: #d62728; background: #fdecec; }
    .notice table { margin-top: 0.5rem; background: transparent; }
    @media (max-width: 40rem) { body { font-size: 15px; } main { padding: 1rem 0.75rem 2rem; } }
    @media print {
      body { font-size: 10.5pt; }
      main { max-width: none; padding: 0; }
      a { color: inherit; text-decoration: none; }
      figure, table, .notice { break-inside: avoid; }
      .dbal-panels { flex-wrap: nowrap; }
      .dbal-panels svg { flex: 1 1 0; max-width: none; }
      pre { white-space: pre-wrap; }
    }
    """
}
