import Foundation
import Notebook

/// Renders a literate document with its results filled in as Markdown, a self-contained HTML
/// page, and per-figure SVG and CSV assets.
///
/// Rendering is a pure function of the document and ``ReportInputs``: no clock, no randomness
/// and no dictionary-order dependence, so the same inputs give byte-identical files.
///
/// ```swift
/// let document = try NotebookDocument(contentsOf: pipelines.appending(path: "fig2.md"))
/// let report = try ReportRenderer.render(document: document, inputs: inputs)
/// try report.write(to: reportsDirectory)  // fig2.md, fig2.html, fig2/<figure-id>.{svg,csv}
/// ```
public enum ReportRenderer {
  /// Renders `document` with `inputs`.
  ///
  /// - Parameters:
  ///   - document: The parsed literate document.
  ///   - inputs: Figure and table data by id, inline values, provenance and completeness.
  ///   - name: The report's base name; assets go in a folder of that name. Defaults to the
  ///     document's name (`fig2` for `fig2.md`).
  /// - Throws: ``ReportError`` for an unknown `{{value}}` (naming its line) or missing or
  ///   inconsistent figure and table data.
  public static func render(
    document: NotebookDocument,
    inputs: ReportInputs,
    name: String? = nil
  ) throws(ReportError) -> RenderedReport {
    let name = name ?? document.name
    var builder = NodeBuilder(document: document, inputs: inputs, assetFolder: name)
    let nodes = try builder.build()
    let title = document.title ?? name
    return RenderedReport(
      name: name,
      markdown: MarkdownWriter.write(nodes),
      html: HTMLWriter.write(nodes, title: title),
      assets: builder.assets
    )
  }
}

/// Turns document blocks into report nodes and collects figure assets on the way.
private struct NodeBuilder {
  let document: NotebookDocument
  let inputs: ReportInputs
  let assetFolder: String
  private(set) var assets: [ReportAsset] = []
  private var figureCount = 0
  private var tableCount = 0

  init(document: NotebookDocument, inputs: ReportInputs, assetFolder: String) {
    self.document = document
    self.inputs = inputs
    self.assetFolder = assetFolder
  }

  mutating func build() throws(ReportError) -> [ReportNode] {
    var nodes: [ReportNode] = []
    var noticesPlaced = false
    var provenancePlaced = false
    for block in document.blocks {
      switch block {
      case .prose(let prose):
        var segments = try resolve(prose)
        if !noticesPlaced, let titleLine = document.titleLine, prose.line <= titleLine,
          let (head, tail) = splitAfterTitle(segments)
        {
          nodes.append(.prose(head))
          nodes += notices()
          noticesPlaced = true
          segments = tail
        }
        if !segments.isEmpty { nodes.append(.prose(segments)) }
      case .experiment:
        continue  // the experiment's settings appear in the provenance's parameters
      case .figure(let figure):
        nodes.append(try figureNode(figure))
      case .table(let table):
        nodes.append(try tableNode(table))
      case .provenance:
        nodes += calibrationNodes() + protocolNodes() + provenanceNodes()
        provenancePlaced = true
      }
    }
    if !noticesPlaced { nodes.insert(contentsOf: notices(), at: 0) }
    if !provenancePlaced { nodes += calibrationNodes() + protocolNodes() + provenanceNodes() }
    return nodes
  }

  // MARK: - Calibration

  /// The generated calibration section: expected calibration error against acquired images,
  /// with the same panels and series as the document's first figure.
  private mutating func calibrationNodes() -> [ReportNode] {
    guard let data = inputs.calibration else { return [] }
    let svg = FigureSVG(data, title: "Expected calibration error")
    let svgPath = "\(assetFolder)/\(data.id).svg"
    let csvPath = "\(assetFolder)/\(data.id).csv"
    assets.append(ReportAsset(path: svgPath, contents: svg.standalone()))
    assets.append(ReportAsset(path: csvPath, contents: data.csv()))
    // Each series' model named once, as in the figure's description ("Deterministic CNN (BALD =
    // 0: random selection)" is the deterministic CNN of one panel).
    let metrics = data.panels.flatMap(\.series).reduce(into: [String]()) { names, series in
      let name = "\(series.model ?? series.label): \(Self.predictionName(series.metric))"
      if !names.contains(name) { names.append(name) }
    }
    let intro =
      "## Calibration over the rounds\n\n"
      + "Whether the models' confidence means anything: the expected calibration error (ECE) of "
      + "the test predictions after each round, lower is better. ECE groups the test images into "
      + "15 equal-width bins of confidence (the largest predicted probability) and averages "
      + "|accuracy - mean confidence| over the bins, weighted by their sizes. Computed by the "
      + "`calibrate` stage of each round from the round's cached model and the same predictions as "
      + "its test accuracy; the data file also holds the test negative log-likelihood and Brier "
      + "score of the MC and the dropout-off predictions.\n"
    let description: [Inline] = [
      .text(
        "Lines: mean ECE over \(svg.repetitionPhrase) ("
          + metrics.joined(separator: "; ") + "); shaded: "
          + (data.band == .minMax ? "min–max" : "±1 standard deviation")
          + " over repetitions; rounds not calibrated yet are left out. Data: "
      ),
      .link(text: csvPath, path: csvPath),
      .text("."),
    ]
    return [
      .prose([.markdown(intro)]),
      .figure(
        FigureNode(
          id: data.id,
          label: "Calibration",
          title: "Expected calibration error (15 bins) against acquired images",
          caption: nil,
          description: description,
          svgPath: svgPath,
          csvPath: csvPath,
          inlinePanels: svg.inlinePanels()
        )
      ),
    ]
  }

  private static func predictionName(_ metric: AccuracyMetric) -> String {
    switch metric {
    case .mc: "predictive mean"
    case .deterministic: "dropout off"
    }
  }

  // MARK: - Prose

  private func resolve(_ prose: ProseBlock) throws(ReportError) -> [ResolvedSegment] {
    var resolved: [ResolvedSegment] = []
    for segment in prose.segments {
      switch segment {
      case .text(let text):
        resolved.append(.markdown(text))
      case .value(let reference):
        guard let value = inputs.values[reference.name] else {
          throw ReportError.unknownValue(
            name: reference.name,
            file: document.fileName,
            line: reference.line,
            available: inputs.values.keys.sorted()
          )
        }
        resolved.append(.value(value))
      }
    }
    return resolved
  }

  /// Splits prose after the line holding the `# ` title, so notices can follow it.
  private func splitAfterTitle(
    _ segments: [ResolvedSegment]
  )
    -> ([ResolvedSegment], [ResolvedSegment])?
  {
    for (index, segment) in segments.enumerated() {
      guard case .markdown(let text) = segment else { continue }
      var offset = text.startIndex
      while offset < text.endIndex {
        let lineEnd = text[offset...].firstIndex(of: "\n") ?? text.endIndex
        if text[offset..<lineEnd].hasPrefix("# ") {
          let cut = lineEnd < text.endIndex ? text.index(after: lineEnd) : lineEnd
          let head = Array(segments[..<index]) + [.markdown(String(text[..<cut]))]
          let rest = String(text[cut...])
          let tail = (rest.isEmpty ? [] : [.markdown(rest)]) + segments[(index + 1)...]
          return (head, tail)
        }
        offset = lineEnd < text.endIndex ? text.index(after: lineEnd) : lineEnd
      }
    }
    return nil
  }

  // MARK: - Notices

  private func notices() -> [ReportNode] {
    var nodes: [ReportNode] = []
    if case .partial(let progress) = inputs.completeness {
      let done = progress.map(\.roundsDone).reduce(0, +)
      let total = progress.map(\.roundsTotal).reduce(0, +)
      let finished = progress.filter { $0.roundsDone >= $0.roundsTotal }.count
      let rows: [[[Inline]]] = progress.map { cell in
        [
          [.code(cell.cell)], [.text("\(cell.roundsDone) / \(cell.roundsTotal)")],
          [.text(percent(cell.roundsDone, of: cell.roundsTotal))],
        ]
      }
      nodes.append(
        .notice(
          Notice(
            kind: .partial,
            body: [
              .strong("Partial report."),
              .text(
                " The experiments have not finished: \(finished) of \(progress.count) cells"
                  + " finished (\(done) of \(total) rounds, \(percent(done, of: total))). Figures,"
                  + " tables and values below use only the finished rounds. Re-run "
              ),
              .code(inputs.provenance.continueCommand ?? inputs.provenance.command),
              .text(" to continue; finished rounds are cached."),
            ],
            table: TableNode(
              columns: ["Cell", "Rounds evaluated", "Progress"],
              rows: rows,
              numericColumns: [1, 2]
            )
          )
        )
      )
    }
    if let notice = inputs.provenance.profileNotice {
      nodes.append(
        .notice(
          Notice(
            kind: .profile,
            body: [.strong("Not the paper's protocol."), .text(" " + notice)]
          )
        )
      )
    }
    return nodes
  }

  private func percent(_ part: Int, of whole: Int) -> String {
    whole > 0 ? TextFormatting.fixed(100 * Double(part) / Double(whole), digits: 1) + "%" : "–"
  }

  // MARK: - Figures and tables

  private mutating func figureNode(_ figure: FigureBlock) throws(ReportError) -> ReportNode {
    guard let data = inputs.figures[figure.id] else {
      throw ReportError.missingFigureData(id: figure.id, file: document.fileName, line: figure.line)
    }
    figureCount += 1
    let svg = FigureSVG(data, title: figure.title)
    let svgPath = "\(assetFolder)/\(figure.id).svg"
    let csvPath = "\(assetFolder)/\(figure.id).csv"
    assets.append(ReportAsset(path: svgPath, contents: svg.standalone()))
    assets.append(ReportAsset(path: csvPath, contents: data.csv()))

    let allSeries = data.panels.flatMap(\.series)
    let metrics = allSeries.map(\.metric).reduce(into: [AccuracyMetric]()) {
      if !$0.contains($1) { $0.append($1) }
    }
    let metricText: String
    if metrics.count <= 1 {
      metricText = "mean " + Self.metricName(metrics.first ?? .mc)
    } else {
      metricText =
        "mean test accuracy ("
        + metrics.map { metric in
          // Each series' model, named once ("Deterministic CNN (BALD = 0: random selection)"
          // is the deterministic CNN of one panel).
          let labels = allSeries.filter { $0.metric == metric }.map { $0.model ?? $0.label }
          let unique = labels.reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
          return Self.metricName(metric) + " for " + unique.joined(separator: ", ")
        }.joined(separator: "; ") + ")"
    }
    var cells: [Inline] = []
    for (index, configuration) in data.panels.flatMap(\.series).map(\.configuration).enumerated() {
      cells += [.text(index == 0 ? "" : ", "), .code(configuration)]
    }
    let description: [Inline] =
      [
        .text(
          "Lines: \(metricText) over \(svg.repetitionPhrase); shaded: "
            + (data.band == .minMax ? "min–max" : "±1 standard deviation")
            + " over repetitions. Data: "
        ),
        .link(text: csvPath, path: csvPath),
        .text(". Cells: "),
      ] + cells + [.text(" (stage counts in the provenance section).")]
    return .figure(
      FigureNode(
        id: figure.id,
        label: figure.label ?? "Figure \(figureCount)",
        title: figure.title,
        caption: figure.caption,
        description: description,
        svgPath: svgPath,
        csvPath: csvPath,
        inlinePanels: svg.inlinePanels()
      )
    )
  }

  private static func metricName(_ metric: AccuracyMetric) -> String {
    switch metric {
    case .mc: "MC-dropout test accuracy"
    case .deterministic: "test accuracy with dropout off"
    }
  }

  private mutating func tableNode(_ table: TableBlock) throws(ReportError) -> ReportNode {
    guard let data = inputs.tables[table.id] else {
      throw ReportError.missingTableData(id: table.id, file: document.fileName, line: table.line)
    }
    for (index, row) in data.rows.enumerated() where row.count != data.columns.count {
      throw ReportError.raggedTable(
        id: table.id,
        row: index,
        expected: data.columns.count,
        found: row.count
      )
    }
    tableCount += 1
    let numeric = Set(
      data.columns.indices.filter { column in
        !data.rows.isEmpty && data.rows.allSatisfy { Self.looksNumeric($0[column]) }
      }
    )
    return .table(
      TableNode(
        label: table.label ?? "Table \(tableCount)",
        caption: table.caption,
        columns: data.columns,
        rows: data.rows.map { $0.map { [.text($0)] } },
        numericColumns: numeric,
        notes: data.notes
      )
    )
  }

  /// Whether a cell reads as a number (`97.1%`, `-0.4`, `>1000`, `–`), to right-align it.
  private static func looksNumeric(_ cell: String) -> Bool {
    let core = cell.trimmingCharacters(in: CharacterSet(charactersIn: " %+-−–><"))
    return core.isEmpty || Double(core) != nil
  }

  // MARK: - Protocol

  private func protocolNodes() -> [ReportNode] {
    guard let table = inputs.protocolTable else { return [] }
    return [
      .heading(level: 2, text: "Protocol", anchor: "protocol"),
      .paragraph([
        .text(
          "What this report ran, generated from its resolved parameters, next to the paper's"
            + " text and the authors' code, with the reason for each choice."
        )
      ]),
      .table(
        TableNode(
          columns: table.columns,
          rows: table.rows.map { $0.map(Self.inlines) },
          notes: table.notes
        )
      ),
    ]
  }

  /// Text with `code spans` as inline nodes.
  private static func inlines(_ text: String) -> [Inline] {
    text.split(separator: "`", omittingEmptySubsequences: false).enumerated().compactMap {
      index,
      part in
      part.isEmpty ? nil : (index % 2 == 1 ? .code(String(part)) : .text(String(part)))
    }
  }

  // MARK: - Provenance

  private func provenanceNodes() -> [ReportNode] {
    let provenance = inputs.provenance
    var summary: [[[Inline]]] = [[[.text("Command")], [.code(provenance.command)]]]
    if let directory = provenance.workingDirectory {
      summary.append([[.text("Working directory")], [.code(directory)]])
    }
    let code: [Inline] =
      provenance.gitCommit.map {
        [.code($0), .text(provenance.gitDirty ? " with uncommitted changes" : " (clean)")]
      } ?? [.text("not a git checkout")]
    // When no run of this command computed the results here (imported bundles, runs cell by
    // cell), the code version is the rendering's; the per-cell table says what computed them.
    let computedHere = provenance.wallSeconds > 0
    summary.append([[.text(computedHere ? "Code version" : "Code version (rendering)")], code])
    if let checkout = provenance.checkoutCommit {
      summary.append([
        [.text("Checkout")],
        [
          .code(checkout),
          .text(" (the target documents were read there; the code version is the binary's)"),
        ],
      ])
    }
    var profile: [Inline] = [.code(provenance.profile)]
    if let notice = provenance.profileNotice { profile.append(.text(" — " + notice)) }
    summary.append([[.text("Profile")], profile])
    summary.append([[.text("Root seed")], [.code("\(provenance.rootSeed)")]])
    summary.append([[.text("Parameters digest")], [.code(provenance.parametersDigest)]])
    let completeness: String
    switch inputs.completeness {
    case .complete:
      completeness = "complete"
    case .partial(let cells):
      let done = cells.map(\.roundsDone).reduce(0, +)
      let total = cells.map(\.roundsTotal).reduce(0, +)
      completeness = "partial: \(done) of \(total) rounds"
    }
    summary.append([[.text("Completeness")], [.text(completeness)]])
    summary.append([
      [.text("Total wall time")],
      [
        .text(
          provenance.wallSeconds > 0
            ? TextFormatting.duration(provenance.wallSeconds)
            : "not recorded (no run of this command computed the results here: they were "
              + "imported or computed cell by cell; see the compute time per cell)"
        )
      ],
    ])

    let cells = provenance.cells
    // The recorded compute time per round after round 0: the cost of each uncertainty source
    // side by side (an ensemble trains M networks a round).
    func perRound(_ cell: CellExecution) -> String {
      cell.secondsPerRound.map(TextFormatting.duration) ?? "–"
    }
    var stageRows: [[[Inline]]] = cells.map { cell in
      [
        [.code(cell.cell)], [.text("\(cell.roundsCached)")], [.text("\(cell.roundsExecuted)")],
        [.text(TextFormatting.duration(cell.computeSeconds))],
        [.text(perRound(cell))],
        [.text(cell.scoringSecondsPerRound.map(TextFormatting.duration) ?? "–")],
        [.text(cell.computedBy.isEmpty ? "–" : cell.computedBy.joined(separator: "; "))],
      ]
    }
    stageRows.append([
      [.strong("Total")], [.strong("\(cells.map(\.roundsCached).reduce(0, +))")],
      [.strong("\(cells.map(\.roundsExecuted).reduce(0, +))")],
      [.strong(TextFormatting.duration(cells.map(\.computeSeconds).reduce(0, +)))], [.text("")],
      [.text("")], [.text("")],
    ])

    let software = provenance.software
    let system = provenance.system
    let environment: [(String, String)] = [
      ("Swift", software.swift), ("HDF5", software.hdf5), ("oneDNN", software.oneDNN),
      ("oneDNN ISA", software.oneDNNISA), ("Operating system", system.operatingSystem),
      ("CPU", system.cpuModel), ("Cores", "\(system.cores)"),
      ("Memory", TextFormatting.bytes(system.memoryBytes)),
    ]

    return [
      .heading(level: 2, text: "Provenance", anchor: "provenance"),
      .paragraph([
        .text(
          computedHere
            ? "Every number above was computed by the command below. To reproduce, check out"
              + " the code version shown and run it from the repository root; cached stages are"
              + " reused and matched by their content-hashed keys."
            : "The numbers above were not computed by one run of the command below: they come"
              + " from imported result bundles or from runs of single cells, by the code"
              + " versions and machines that the table of stages per cell lists. The command"
              + " renders them from a cache that holds them and computes whatever is missing;"
              + " every cached stage is matched by its content-hashed key, whichever code"
              + " version computed it."
        )
      ]),
      .table(TableNode(columns: ["Field", "Value"], rows: summary)),
      .heading(level: 3, text: "Parameters", anchor: "provenance-parameters"),
      .table(
        TableNode(
          columns: ["Parameter", "Value"],
          rows: provenance.parameters.map { [[.code($0.name)], [.text($0.value)]] }
        )
      ),
      .heading(level: 3, text: "Input data", anchor: "provenance-inputs"),
      .table(
        TableNode(
          columns: ["Input", "SHA-256"],
          rows: provenance.inputs.map { [[.text($0.name)], [.code($0.sha256)]] }
        )
      ),
      .heading(level: 3, text: "Stages per cell", anchor: "provenance-stages"),
      .table(
        TableNode(
          columns: [
            "Cell", "Rounds cached", "Rounds executed", "Compute time", "Per round",
            "Scoring per round", "Computed by (code, oneDNN ISA, threads, CPU: stages)",
          ],
          rows: stageRows,
          numericColumns: [1, 2, 3, 4, 5]
        )
      ),
      .heading(level: 3, text: "Software and hardware", anchor: "provenance-environment"),
      .table(
        TableNode(
          columns: ["Component", "Version"],
          rows: environment.map { [[.text($0.0)], [.text($0.1)]] }
        )
      ),
    ]
  }
}
