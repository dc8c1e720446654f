import Acquisition

/// Splits a document into prose and fenced DBAL blocks and builds the typed blocks.
///
/// Fences follow CommonMark: up to three spaces of indent, then at least three backticks or
/// tildes; the block ends at a line of at least as many of the same character. Only the
/// first word of the info string decides the kind.
struct NotebookParser {
  let file: String
  let lines: [NumberedLine]

  init(text: String, file: String) {
    self.file = file
    var lines: [NumberedLine] = []
    // "\r\n" is a single Character in Swift, so split on both spellings of a line break.
    let rawLines = text.split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" }
    for (index, raw) in rawLines.enumerated() {
      var line = String(raw)
      if line.hasSuffix("\r") { line.removeLast() }
      lines.append(NumberedLine(number: index + 1, text: line))
    }
    // A trailing newline ends the last line; it does not start an empty one.
    if lines.count > 1, lines.last?.text.isEmpty == true { lines.removeLast() }
    self.lines = lines
  }

  // MARK: - Document

  func parse() throws(NotebookError) -> NotebookDocument {
    var blocks: [NotebookBlock] = []
    var prose = ProseAccumulator(file: file)
    var title: (text: String, line: Int)?
    var index = 0
    while index < lines.count {
      let line = lines[index]
      guard let fence = Fence(opening: line.text) else {
        if title == nil, let heading = Self.titleHeading(line.text) {
          title = (heading, line.number)
        }
        try prose.append(line)
        index += 1
        continue
      }
      guard let closing = lines[(index + 1)...].firstIndex(where: { fence.isClosed(by: $0.text) })
      else {
        throw NotebookError(
          file: file,
          line: line.number,
          problem: .unterminatedFence(fence: fence.marker)
        )
      }
      let body = Array(lines[(index + 1)..<closing])
      if let kind = BlockKind(rawValue: fence.language) {
        if let finished = prose.finish() { blocks.append(.prose(finished)) }
        blocks.append(try block(kind, body: body, openingLine: line.number))
      } else if fence.language.hasPrefix("dbal-") {
        throw NotebookError(
          file: file,
          line: line.number,
          problem: .unknownBlockKind(kind: fence.language)
        )
      } else {
        // Ordinary code is prose, copied verbatim: `{{` inside code is not a value reference.
        prose.appendVerbatim(lines[index...closing])
      }
      index = closing + 1
    }
    if let finished = prose.finish() { blocks.append(.prose(finished)) }
    try validate(blocks)
    return NotebookDocument(
      fileName: file,
      title: title?.text,
      titleLine: title?.line,
      blocks: blocks
    )
  }

  /// The heading text when `line` is a level-1 ATX heading (`# Title`).
  static func titleHeading(_ line: String) -> String? {
    guard line.hasPrefix("# ") else { return nil }
    var text = String(line.dropFirst(2)).trimmingWhitespace()
    while text.hasSuffix("#") { text.removeLast() }  // optional closing hashes
    text = text.trimmingWhitespace()
    return text.isEmpty ? nil : text
  }

  /// Document-wide rules: one experiment, at most one provenance marker, unique ids.
  private func validate(_ blocks: [NotebookBlock]) throws(NotebookError) {
    var experimentLine: Int?
    var provenanceLine: Int?
    var idLines: [String: Int] = [:]
    for block in blocks {
      switch block {
      case .experiment(let experiment):
        if let first = experimentLine {
          throw NotebookError(
            file: file,
            line: experiment.line,
            problem: .duplicateBlock(block: .experiment, firstLine: first)
          )
        }
        experimentLine = experiment.line
      case .provenance(let marker):
        if let first = provenanceLine {
          throw NotebookError(
            file: file,
            line: marker.line,
            problem: .duplicateBlock(block: .provenance, firstLine: first)
          )
        }
        provenanceLine = marker.line
      case .figure(let figure):
        try claim(figure.id, line: figure.line, in: &idLines)
      case .table(let table):
        try claim(table.id, line: table.line, in: &idLines)
      case .prose:
        break
      }
    }
    if experimentLine == nil {
      throw NotebookError(file: file, line: 1, problem: .missingExperiment)
    }
  }

  private func claim(
    _ id: String,
    line: Int,
    in idLines: inout [String: Int]
  )
    throws(NotebookError)
  {
    if let first = idLines[id] {
      throw NotebookError(file: file, line: line, problem: .duplicateID(id: id, firstLine: first))
    }
    idLines[id] = line
  }

  // MARK: - Blocks

  private func block(
    _ kind: BlockKind,
    body lines: [NumberedLine],
    openingLine: Int
  )
    throws(NotebookError) -> NotebookBlock
  {
    switch kind {
    case .experiment:
      let body = try BlockBody(
        kind: kind,
        allowedKeys: ["acquisitions", "models", "repetitions", "validation", "set", "datasets"],
        lines: lines,
        file: file,
        openingLine: openingLine
      )
      return .experiment(
        ExperimentBlock(
          acquisitions: try body.choiceList(body.required("acquisitions")),
          models: try body.choiceList(body.required("models")),
          repetitions: try body.optional("repetitions").map(body.positiveInteger),
          validationSize: try body.optional("validation").map(body.positiveInteger),
          overrides: try body.optional("set").map { entry throws(NotebookError) in
            try overrides(entry, in: body)
          } ?? [],
          datasets: try body.optional("datasets").map(body.list) ?? [],
          line: openingLine
        )
      )
    case .figure:
      let body = try BlockBody(
        kind: kind,
        allowedKeys: ["id", "panels", "series", "metric", "title", "caption", "label"],
        lines: lines,
        file: file,
        openingLine: openingLine
      )
      return .figure(
        FigureBlock(
          id: try body.identifier(body.required("id")),
          panels: try body.choice(body.required("panels")),
          series: try body.choice(body.required("series")),
          metric: try body.optional("metric").map { entry throws(NotebookError) in
            try metricSelection(entry, in: body)
          } ?? .uniform(.mc),
          title: try body.optional("title").map(body.text),
          caption: try body.optional("caption").map(body.text),
          label: try body.optional("label").map(body.text),
          line: openingLine
        )
      )
    case .table:
      let body = try BlockBody(
        kind: kind,
        allowedKeys: ["id", "kind", "errors", "acquired", "caption", "label"],
        lines: lines,
        file: file,
        openingLine: openingLine
      )
      let tableKind: TableKind = try body.choice(body.required("kind"))
      var thresholds: [Double] = []
      if let entry = body.optional("errors") {
        guard tableKind == .acquiredToError else {
          throw body.invalid(entry, expected: "no 'errors:' for kind \(tableKind.rawValue)")
        }
        thresholds = try errorThresholds(entry, in: body)
      } else if tableKind == .acquiredToError {
        thresholds = TableBlock.defaultErrorThresholds
      }
      var acquired: [Int] = []
      if let entry = body.optional("acquired") {
        guard tableKind == .accuracyAt else {
          throw body.invalid(entry, expected: "no 'acquired:' for kind \(tableKind.rawValue)")
        }
        acquired = try acquiredCounts(entry, in: body)
      } else if tableKind == .accuracyAt {
        throw body.invalid(
          try body.required("kind"),
          expected: "an 'acquired:' list with kind accuracy-at, such as 'acquired: 100, 500, 1000'"
        )
      }
      return .table(
        TableBlock(
          id: try body.identifier(body.required("id")),
          kind: tableKind,
          errorThresholds: thresholds,
          acquiredCounts: acquired,
          caption: try body.optional("caption").map(body.text),
          label: try body.optional("label").map(body.text),
          line: openingLine
        )
      )
    case .provenance:
      _ = try BlockBody(
        kind: kind,
        allowedKeys: [],
        lines: lines,
        file: file,
        openingLine: openingLine
      )
      return .provenance(ProvenanceBlock(line: openingLine))
    }
  }

  private func overrides(
    _ entry: BlockBody.Entry,
    in body: BlockBody
  ) throws(NotebookError)
    -> [ParameterOverride]
  {
    var overrides: [ParameterOverride] = []
    for item in try body.list(entry) {
      // A list value continues over commas: `set: weight-decay-grid=0.5, 1, 2.5, epochs=50`.
      if !item.contains("="), let last = overrides.popLast() {
        overrides.append(ParameterOverride(name: last.name, value: last.value + "," + item))
        continue
      }
      let parts = item.split(separator: "=", maxSplits: 1).map {
        String($0).trimmingWhitespace()
      }
      guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
        throw body.invalid(entry, expected: "comma-separated 'name=value' pairs", value: item)
      }
      guard !overrides.contains(where: { $0.name == parts[0] }) else {
        throw body.invalid(entry, expected: "each parameter set at most once", value: item)
      }
      overrides.append(ParameterOverride(name: parts[0], value: parts[1]))
    }
    return overrides
  }

  /// `mc`, `deterministic`, `natural`, or per model: `mc for bayesian, deterministic for
  /// deterministic` (every model not named uses `mc`).
  private func metricSelection(
    _ entry: BlockBody.Entry,
    in body: BlockBody
  ) throws(NotebookError) -> MetricSelection {
    let expected =
      "'mc', 'deterministic', 'natural' (each model's own: MC for bayesian, dropout off for "
      + "deterministic) or per model, e.g. 'mc for bayesian, deterministic for deterministic'"
    let items = try body.list(entry)
    if items.count == 1, !items[0].contains(" ") {
      if items[0] == "natural" { return .natural }
      guard let metric = AccuracyMetric(rawValue: items[0]) else {
        throw body.invalid(entry, expected: expected, value: items[0])
      }
      return .uniform(metric)
    }
    var perModel: [UncertaintySource: AccuracyMetric] = [:]
    for item in items {
      let words = item.split(separator: " ").map(String.init)
      guard words.count == 3, words[1] == "for" else {
        throw body.invalid(entry, expected: expected, value: item)
      }
      guard let metric = AccuracyMetric(rawValue: words[0]) else {
        throw body.invalid(
          entry,
          expected: "a metric among "
            + AccuracyMetric.allCases.map { "'\($0.rawValue)'" }
            .joined(separator: ", "),
          value: words[0]
        )
      }
      guard let model = UncertaintySource(rawValue: words[2]) else {
        throw body.invalid(
          entry,
          expected: "a model among "
            + UncertaintySource.allCases.map { "'\($0.rawValue)'" }
            .joined(separator: ", "),
          value: words[2]
        )
      }
      guard perModel[model] == nil else {
        throw body.invalid(entry, expected: "each model named at most once", value: item)
      }
      perModel[model] = metric
    }
    return MetricSelection(perModel: perModel)
  }

  private func acquiredCounts(
    _ entry: BlockBody.Entry,
    in body: BlockBody
  )
    throws(NotebookError) -> [Int]
  {
    try body.list(entry).map { (item) throws(NotebookError) -> Int in
      guard let count = Int(item), count >= 0 else {
        throw body.invalid(
          entry,
          expected: "numbers of acquired images, such as '100, 500, 1000'",
          value: item
        )
      }
      return count
    }
  }

  private func errorThresholds(
    _ entry: BlockBody.Entry,
    in body: BlockBody
  )
    throws(NotebookError) -> [Double]
  {
    var thresholds: [Double] = []
    for item in try body.list(entry) {
      let digits = item.hasSuffix("%") ? String(item.dropLast()) : item
      guard let percent = Double(digits), percent > 0, percent < 100 else {
        throw body.invalid(
          entry,
          expected: "test errors in percent between 0 and 100, such as '10, 5'",
          value: item
        )
      }
      thresholds.append(percent)
    }
    return thresholds
  }
}

// MARK: - Fences

/// An opening code fence and the rule for the line that closes it.
struct Fence {
  /// The fence characters as written, for example ```` ``` ```` or `~~~~`.
  let marker: String
  /// The first word of the info string, lower-cased (empty when there is none).
  let language: String

  /// Recognises `line` as an opening fence, or returns nil.
  init?(opening line: String) {
    let indent = line.prefix { $0 == " " }.count
    guard indent <= 3 else { return nil }
    let rest = line.dropFirst(indent)
    guard let character = rest.first, character == "`" || character == "~" else { return nil }
    let marker = rest.prefix { $0 == character }
    guard marker.count >= 3 else { return nil }
    let info = String(rest.dropFirst(marker.count)).trimmingWhitespace()
    if character == "`" && info.contains("`") { return nil }  // an inline code span
    self.marker = String(marker)
    self.language = info.split(separator: " ").first.map { String($0).lowercased() } ?? ""
  }

  /// Whether `line` closes this fence: the same character, at least as many, nothing after.
  func isClosed(by line: String) -> Bool {
    let indent = line.prefix { $0 == " " }.count
    guard indent <= 3, let character = marker.first else { return false }
    let rest = line.dropFirst(indent)
    let run = rest.prefix { $0 == character }
    return run.count >= marker.count
      && String(rest.dropFirst(run.count)).trimmingWhitespace()
        .isEmpty
  }
}
