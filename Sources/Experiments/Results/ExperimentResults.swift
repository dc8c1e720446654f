import Acquisition
import Foundation
import HDF5Store
import NeuralEngine
import Notebook
import PipelineCore
import Reports

/// The measured learning curves of a plan's cells, read from committed `evaluate` artifacts,
/// and everything derived from them for a report: figures, tables and quoted values.
public struct ExperimentResults: Sendable {
  /// The plan the results belong to.
  public let plan: ExperimentPlan
  /// Per cell, the curve points of the rounds evaluated so far (round order, no gaps).
  public let curves: [Cell: [CurvePoint]]

  /// Collects every committed evaluation of `plan`; `artifact` resolves a stage's verified
  /// artifact or returns nil when it is not committed.
  public init(plan: ExperimentPlan, artifact: (StageID, String) throws -> URL?) throws {
    self.plan = plan
    let p = plan.profile.parameters
    var curves: [Cell: [CurvePoint]] = [:]
    for cell in plan.cells {
      var points: [CurvePoint] = []
      // The labelled and acquired counts are read from the labelled sets, never assumed from
      // the parameters: round r trains on the set that acquisition r - 1 produced.
      var initial: Int?
      for round in 0...p.rounds {
        let id = ExperimentPlan.stageID(cell, round: round, "evaluate")
        guard let url = try artifact(id, "metrics") else { break }
        let metrics = try EvaluationMetrics(contentsOf: url)
        let counts = try Self.labelledCounts(cell, round: round, artifact: artifact)
        if round == 0 { initial = counts?.labelled }
        let labelled = counts?.labelled ?? (p.initialLabelled + round * p.acquireCount)
        // Calibration where the round's calibrate stage has run (rounds computed before it
        // existed have none until it runs).
        let calibration = try artifact(
          ExperimentPlan.stageID(cell, round: round, CalibrateStage.kind),
          "calibration"
        ).map { try CalibrationMetrics(contentsOf: $0) }
        points.append(
          CurvePoint(
            acquired: labelled - (initial ?? p.initialLabelled),
            labelled: labelled,
            accuracyMC: metrics.accuracyMC,
            accuracyDeterministic: metrics.accuracyDeterministic,
            weightDecay: metrics.weightDecay,
            calibrationMC: calibration.map { Self.point($0.mc) },
            calibrationDeterministic: calibration.map { Self.point($0.deterministic) }
          )
        )
      }
      curves[cell] = points
    }
    self.curves = curves
  }

  /// The size of the labelled set that round `round` of `cell` trained on, read from the
  /// labelled sets: the output of acquisition `round - 1`, or for round 0 the output of
  /// acquisition 0 less what it acquired (the split's own artifact when no acquisition ran,
  /// since bundles carry the shared split as a digest only). Nil when none of them is cached
  /// with its bytes (then the caller falls back to the protocol's counts).
  ///
  /// - Throws: what reading a cached labelled set throws (a corrupt one is quarantined by the
  ///   `artifact` resolver, so that a rerun recomputes it).
  static func labelledCounts(
    _ cell: Cell,
    round: Int,
    artifact: (StageID, String) throws -> URL?
  ) throws -> (labelled: Int, acquired: Int)? {
    func counts(_ id: StageID) throws -> (labelled: Int, acquired: Int)? {
      let url: URL?
      do {
        url = try artifact(id, "labelled")
      } catch PipelineError.prunedArtifact {
        return nil
      }
      guard let url else { return nil }
      let file = try HDF5File.open(url.path)
      defer { try? file.close() }
      let labelled = try file.info("labelled").shape.first ?? 0
      let acquired = file.exists("acquired") ? try file.info("acquired").shape.first ?? 0 : 0
      return (labelled, acquired)
    }
    if round > 0 { return try counts(ExperimentPlan.stageID(cell, round: round - 1, "acquire")) }
    if let after = try counts(ExperimentPlan.stageID(cell, round: 0, "acquire")) {
      return (after.labelled - after.acquired, 0)
    }
    return try counts(ExperimentPlan.splitID(repetition: cell.repetition, dataset: cell.dataset))
  }

  /// Results from curves already read (tests, and results assembled elsewhere).
  init(plan: ExperimentPlan, curves: [Cell: [CurvePoint]]) {
    self.plan = plan
    self.curves = curves
  }

  /// Whether every cell has all its rounds evaluated.
  public var isComplete: Bool {
    progress.allSatisfy { $0.roundsDone == $0.roundsTotal }
  }

  /// Rounds evaluated per cell.
  public var progress: [CellProgress] {
    plan.cells.map {
      CellProgress(
        cell: $0.description,
        roundsDone: curves[$0]?.count ?? 0,
        roundsTotal: plan.profile.parameters.rounds + 1
      )
    }
  }

  var acquisitions: [AcquisitionFunction] { plan.acquisitions }
  var models: [UncertaintySource] { plan.models }

  /// The runs of one configuration, on `dataset` (on the plan's only dataset when nil).
  func runs(
    _ acquisition: AcquisitionFunction,
    _ model: UncertaintySource,
    dataset: DatasetVariant? = nil
  ) -> [CurveRun] {
    let dataset = dataset ?? plan.datasets.first
    return plan.cells.filter {
      $0.acquisition == acquisition && $0.model == model && $0.dataset == dataset
    }
    .map { CurveRun(repetition: $0.repetition, points: curves[$0] ?? []) }
  }

  /// The name of a configuration on `dataset` in tables and values: nothing for the plan's
  /// only dataset, else the dataset's display name (tables) or slug (values).
  func datasetSuffix(_ dataset: DatasetVariant, slug: Bool) -> String {
    guard plan.datasets.count > 1 else { return "" }
    return slug ? (dataset == .mnist ? "" : ".\(dataset.slug)") : ", \(dataset.displayName)"
  }

  // MARK: - Figures

  /// The data of a figure block: one series per cell configuration, each plotting the metric
  /// the block selects for its model.
  public func figure(_ block: FigureBlock) -> FigureData {
    let datasets = plan.datasets
    func series(
      _ acquisition: AcquisitionFunction,
      _ model: UncertaintySource,
      _ dataset: DatasetVariant,
      color: SeriesColor
    )
      -> CurveSeries
    {
      var label =
        block.series == .model
        ? model.displayName
        : (models.count > 1
          ? "\(acquisition.displayName), \(model.displayName)"
          : acquisition.displayName)
      if block.panels != .dataset { label += datasetSuffix(dataset, slug: false) }
      if isRandomSelection(acquisition, model) {
        label += " (\(acquisition.displayName) = 0: random selection)"
      }
      return CurveSeries(
        label: label,
        configuration: Cell(acquisition: acquisition, model: model, repetition: 0, dataset: dataset)
          .configuration,
        color: color,
        metric: block.metric.metric(for: model),
        model: model.displayName,
        runs: runs(acquisition, model, dataset: dataset)
      )
    }
    func allSeries(_ datasets: [DatasetVariant]) -> [CurveSeries] {
      var lines: [CurveSeries] = []
      for dataset in datasets {
        for model in models {
          for acquisition in acquisitions where model.supports(acquisition) {
            let color = SeriesColor.palette[lines.count % SeriesColor.palette.count]
            lines.append(series(acquisition, model, dataset, color: color))
          }
        }
      }
      return lines
    }
    var panels: [FigurePanel] = []
    switch block.panels {
    case .acquisition:
      for acquisition in acquisitions {
        let lines = datasets.flatMap { dataset in
          models.filter { $0.supports(acquisition) }.map { model in
            series(acquisition, model, dataset, color: Self.color(model))
          }
        }
        panels.append(FigurePanel(title: acquisition.displayName, series: lines))
      }
    case .none:
      panels.append(FigurePanel(title: block.title ?? "", series: allSeries(datasets)))
    case .dataset:
      for dataset in datasets {
        panels.append(FigurePanel(title: dataset.displayName, series: allSeries([dataset])))
      }
    }
    return FigureData(id: block.id, panels: panels)
  }

  /// The calibration-over-rounds figure of a report: the panels and series of `block` (the
  /// document's first figure; one panel of every cell by its natural metric without one), each
  /// line the expected calibration error of the prediction the series plots. Nil while no
  /// round of any cell is calibrated.
  public func calibrationFigure(like block: FigureBlock?) -> FigureData? {
    guard
      curves.values.contains(where: { $0.contains { $0.calibrationMC != nil } })
    else { return nil }
    let template =
      block.map { figure($0) }
      ?? FigureData(
        id: "calibration",
        panels: [
          FigurePanel(
            title: "",
            series: plan.cells.reduce(into: [CurveSeries]()) { series, cell in
              let configuration = cell.configuration
              guard !series.contains(where: { $0.configuration == configuration }) else { return }
              series.append(
                CurveSeries(
                  label: "\(cell.acquisition.displayName), \(cell.model.displayName)",
                  configuration: configuration,
                  color: SeriesColor.palette[series.count % SeriesColor.palette.count],
                  metric: MetricSelection.natural.metric(for: cell.model),
                  model: cell.model.displayName,
                  runs: runs(cell.acquisition, cell.model, dataset: cell.dataset)
                )
              )
            }
          )
        ]
      )
    // Only sources with calibrated predictions (the harmonic field has no calibrate stage).
    let panels = template.panels.map { panel in
      FigurePanel(
        title: panel.title,
        series: panel.series.filter { series in
          plan.cells.contains { $0.configuration == series.configuration && $0.trainsNetwork }
        }
      )
    }
    return FigureData(
      id: "calibration",
      panels: panels,
      xLabel: template.xLabel,
      yLabel: "Expected calibration error",
      band: template.band,
      quantity: .expectedCalibrationError
    )
  }

  static func point(_ metrics: Calibration.Metrics) -> CalibrationPoint {
    CalibrationPoint(
      negativeLogLikelihood: metrics.negativeLogLikelihood,
      brierScore: metrics.brierScore,
      expectedCalibrationError: metrics.expectedCalibrationError
    )
  }

  /// Whether the cell's scores are the same for every point, so that it acquires uniformly at
  /// random within the scored subset (through the seeded tie-break): Random itself is labelled
  /// as what it is already; a deterministic model (one pass) does so with every function whose
  /// formula is constant for one pass (BALD, Mean STD, mode-count Variation Ratios), which is
  /// found by scoring two different probability vectors, not by a list of functions.
  public func isRandomSelection(
    _ acquisition: AcquisitionFunction,
    _ model: UncertaintySource
  ) -> Bool {
    guard acquisition != .random, model == .deterministic else { return false }
    let effective = ScoreStage.Parameters(
      function: acquisition,
      model: model,
      mcSamples: 1,
      poolSubset: 0,
      singlePassVariationRatios: plan.profile.parameters.deterministicVarRatios
    ).effectiveFunction
    let scores = effective.scores(
      MCProbabilities(passes: 1, points: 2, classes: 3, values: [0.8, 0.15, 0.05, 0.4, 0.35, 0.25])
    )
    return scores[0] == scores[1]
  }

  /// A source's colour: the palette in the order the sources are declared, so that the paper's
  /// MC dropout is red, the deterministic CNN blue and a deep ensemble green.
  static func color(_ model: UncertaintySource) -> SeriesColor {
    let index = UncertaintySource.allCases.firstIndex(of: model) ?? 0
    return SeriesColor.palette[index % SeriesColor.palette.count]
  }

  // MARK: - Tables

  /// The data of a table block, with the paper's numbers side by side.
  public func table(_ block: TableBlock) -> TableData {
    switch block.kind {
    case .acquiredToError: acquiredToErrorTable(thresholds: block.errorThresholds)
    case .errorAtEnd: errorAtEndTable()
    case .accuracyAt: accuracyAtTable(acquired: block.acquiredCounts)
    }
  }

  /// Test accuracy at each number of acquired images in `requested` that the profile reaches
  /// (the others are left out, with a note), mean over the repetitions that have reached it,
  /// each source by its natural metric (MC dropout and ensembles by their predictive mean, the
  /// deterministic CNN with dropout off).
  func accuracyAtTable(acquired requested: [Int]) -> TableData {
    let p = plan.profile.parameters
    // A count the profile never reaches would be a column of dashes (a quick run of a document
    // written for the paper's 1000): left out, and said so.
    let beyond = requested.filter { $0 > p.totalAcquired }
    // With none left, the accuracy at the profile's end stands in for them.
    let reachable = requested.filter { $0 <= p.totalAcquired }
    let counts = reachable.isEmpty ? [p.totalAcquired] : reachable
    var rows: [[String]] = []
    for dataset in plan.datasets {
      for acquisition in acquisitions {
        for model in models where model.supports(acquisition) {
          rows.append(accuracyAtRow(acquisition, model, dataset, counts: counts))
        }
      }
    }
    return TableData(
      columns: ["Acquisition function", "Uncertainty source"]
        + counts.map { "Test accuracy at \($0) acquired" },
      rows: rows,
      notes: [
        "Mean over repetitions of the test accuracy after the given number of acquired "
          + "images. MC dropout: the mean of T = \(p.testMCSamples) MC-dropout softmax passes; "
          + "deep ensemble (M = \(p.ensembleSize)): the mean of its members' predictions "
          + (p.ensembleDropout == .mcDropout
            ? "(T = \(p.testMCSamples) MC-dropout passes each)" : "(dropout off)")
          + "; deterministic CNN: one pass with dropout off."
      ]
        + (beyond.isEmpty
          ? []
          : [
            "Left out: "
              + beyond.map(String.init).joined(separator: ", ")
              + " acquired images, beyond the \(p.totalAcquired) this profile acquires"
              + (reachable.isEmpty ? " (its end is shown instead)." : ".")
          ])
    )
  }

  /// One row of ``accuracyAtTable(acquired:)``.
  private func accuracyAtRow(
    _ acquisition: AcquisitionFunction,
    _ model: UncertaintySource,
    _ dataset: DatasetVariant,
    counts: [Int]
  ) -> [String] {
    let p = plan.profile.parameters
    let metric = MetricSelection.natural.metric(for: model)
    let curves = runs(acquisition, model, dataset: dataset)
    var row = [acquisition.displayName + datasetSuffix(dataset, slug: false), model.displayName]
    for count in counts {
      guard count % p.acquireCount == 0 else {
        row.append("– (not a multiple of the \(p.acquireCount) acquired per round)")
        continue
      }
      let values = curves.compactMap { run in
        run.points.first { $0.acquired == count }.map { $0.accuracy(metric) }
      }
      guard !values.isEmpty else {
        row.append("– (not computed yet)")
        continue
      }
      let mean = values.reduce(0, +) / Double(values.count)
      row.append(
        String(format: "%.2f%%", 100 * mean)
          + (values.count < curves.count
            ? " (\(values.count) of \(curves.count) repetitions so far)" : "")
      )
    }
    return row
  }

  /// Acquired images at which a repetition's test error (by `metric`) first reaches `error`
  /// percent, linearly interpolated between the two evaluated rounds around the crossing; nil
  /// if the run never reaches it.
  public static func crossing(
    _ points: [CurvePoint],
    errorPercent: Double,
    metric: AccuracyMetric = .mc
  ) -> Double? {
    let target = 1 - errorPercent / 100
    guard let index = points.firstIndex(where: { $0.accuracy(metric) >= target }) else {
      return nil
    }
    guard index > 0 else { return Double(points[0].acquired) }
    let (a, b) = (points[index - 1], points[index])
    let fraction = (target - a.accuracy(metric)) / (b.accuracy(metric) - a.accuracy(metric))
    return Double(a.acquired) + fraction * Double(b.acquired - a.acquired)
  }

  /// The mean crossing over `curves` by `metric`, or why there is none. While some runs are
  /// unfinished, a run that has not crossed yet says nothing: the mean is over the runs that
  /// have (marked "so far"), and "not reached by N" is said only of runs that ended at N. Over
  /// two or more crossings the text adds their range: "204 (range 171–226)".
  private func meanCrossing(
    _ curves: [CurveRun],
    errorPercent: Double,
    metric: AccuracyMetric
  ) -> (mean: Double?, text: String) {
    let crossings = curves.map {
      Self.crossing($0.points, errorPercent: errorPercent, metric: metric)
    }
    let reached = crossings.compactMap { $0 }
    let total = plan.profile.parameters.totalAcquired
    let ended = curves.map { ($0.points.last?.acquired ?? 0) >= total }
    let missedAtEnd = zip(crossings, ended).filter { $0 == nil && $1 }.count
    let running = zip(crossings, ended).filter { $0 == nil && !$1 }.count
    let mean = reached.isEmpty ? nil : reached.reduce(0, +) / Double(reached.count)
    if missedAtEnd > 0 {
      return (
        nil,
        "not reached by \(total) (\(reached.count)/\(curves.count) runs)"
          + (running > 0 ? ", \(running) still running" : "")
      )
    }
    guard let mean else {
      let furthest = curves.compactMap { $0.points.last?.acquired }.max() ?? 0
      // Round 0 (before any acquisition) is shared by every cell of a repetition.
      guard furthest > 0 else { return (nil, "not started yet (round 0 only)") }
      return (nil, "not reached yet (runs up to \(furthest) acquired so far)")
    }
    // The spread over repetitions: the paper's numbers come from three noisy runs too.
    var qualifiers: [String] = []
    if reached.count > 1, let low = reached.min(), let high = reached.max() {
      qualifiers.append(String(format: "range %.0f–%.0f", low, high))
    }
    if running > 0 { qualifiers.append("\(reached.count) of \(curves.count) repetitions so far") }
    let text = String(format: "%.0f", mean)
    guard !qualifiers.isEmpty else { return (mean, text) }
    return (mean, text + " (" + qualifiers.joined(separator: "; ") + ")")
  }

  func acquiredToErrorTable(thresholds: [Double]) -> TableData {
    let p = plan.profile.parameters
    var columns = ["Acquisition function"]
    for threshold in thresholds {
      let label = Self.percent(threshold)
      columns += [
        "Ours (MC), \(label) error", "Ours (dropout off), \(label) error",
        "Paper, \(label) error", "Difference (MC)",
      ]
    }
    var rows: [[String]] = []
    // Paired rows: each acquisition function with every source that supports it.
    for acquisition in acquisitions {
      for model in models where model.supports(acquisition) {
        var row = [rowName(acquisition, model)]
        // Repetitions not started yet say nothing about crossings.
        let curves = runs(acquisition, model).filter { !$0.points.isEmpty }
        guard !curves.isEmpty else {
          let paperValues = thresholds.map { threshold in
            model == .mcDropout ? PaperNumbers.acquiredToError[acquisition]?[threshold] : nil
          }
          for paper in paperValues {
            row += ["not computed yet", "not computed yet", paper.map(String.init) ?? "–", "–"]
          }
          rows.append(row)
          continue
        }
        for threshold in thresholds {
          let mc = meanCrossing(curves, errorPercent: threshold, metric: .mc)
          let off = meanCrossing(curves, errorPercent: threshold, metric: .deterministic)
          let paper =
            model == .mcDropout ? PaperNumbers.acquiredToError[acquisition]?[threshold] : nil
          row += [mc.text, off.text, paper.map(String.init) ?? "–"]
          if let mean = mc.mean, let paper {
            row.append(String(format: "%+.0f", mean - Double(paper)))
          } else {
            row.append("–")
          }
        }
        rows.append(row)
      }
    }
    return TableData(
      columns: columns,
      rows: rows,
      notes: [
        "Acquired images to first reach the given test error (error at most the threshold; a "
          + "curve that rises above it again later is not revisited), per repetition, linearly "
          + "interpolated between the two evaluated rounds around the crossing, then averaged "
          + "over repetitions"
          + (p.repetitions > 1 ? ", with the range over repetitions in brackets" : "")
          + " (the paper does not state its method; its values are multiples of 5). MC: the "
          + "mean of T = \(p.testMCSamples) MC-dropout softmax passes (for the deterministic CNN "
          + "its one dropout-off pass); dropout off: one deterministic pass.",
        "The paper's numbers are for the Bayesian CNN (Table 1 of Gal et al. 2017); the "
          + "difference is ours (MC) minus the paper's.",
      ]
    )
  }

  private func rowName(_ acquisition: AcquisitionFunction, _ model: UncertaintySource) -> String {
    guard models.count > 1 else { return acquisition.displayName }
    // As the figure labels it: a deterministic model whose scores are all equal selects at random.
    let random = isRandomSelection(acquisition, model) ? ", random selection" : ""
    return "\(acquisition.displayName) (\(model.displayName)\(random))"
  }

  func errorAtEndTable() -> TableData {
    let p = plan.profile.parameters
    var rows: [[String]] = []
    // Paired rows: each acquisition function with every source that supports it.
    for acquisition in acquisitions {
      for model in models where model.supports(acquisition) {
        // A run with only the shared round 0 has not started: no result of its own yet.
        let complete = isComplete
        let finals = runs(acquisition, model).compactMap { $0.points.last }.filter {
          $0.acquired > 0 || complete
        }
        let paper = model == .mcDropout ? PaperNumbers.errorAtEnd[acquisition] : nil
        let name = rowName(acquisition, model)
        guard !finals.isEmpty else {
          rows.append([name, "–", "–", "–", paper.map { Self.percent($0) } ?? "–", "–", "–"])
          continue
        }
        let errors = finals.map { 100 * (1 - $0.accuracyMC) }
        let offErrors = finals.map { 100 * (1 - $0.accuracyDeterministic) }
        let acquired = Set(finals.map(\.acquired)).sorted()
        let mean = errors.reduce(0, +) / Double(errors.count)
        let offMean = offErrors.reduce(0, +) / Double(offErrors.count)
        let spread =
          errors.count > 1 ? String(format: "%.2f–%.2f%%", errors.min()!, errors.max()!) : "–"
        // The paper's figure is at the planned end: compare only there.
        let atEnd = acquired == [p.totalAcquired]
        rows.append([
          name, String(format: "%.2f%%", mean), String(format: "%.2f%%", offMean), spread,
          paper.map { Self.percent($0) } ?? "–",
          atEnd ? (paper.map { String(format: "%+.2f pp", mean - $0) } ?? "–") : "–",
          acquired.map(String.init).joined(separator: ", "),
        ])
      }
    }
    let weightDecay =
      p.weightDecayGrid.isEmpty
      ? "weight decay is fixed at c = \(p.weightDecay) (the authors' value), not tuned"
      : "weight decay is chosen each round on the validation set from c in "
        + p.weightDecayGrid.map { String($0) }.joined(separator: ", ")
    return TableData(
      columns: [
        "Acquisition function", "Ours, MC test error", "Ours, dropout-off test error",
        "Range over repetitions (MC)", "Paper", "Difference (MC)", "Acquired images",
      ],
      rows: rows,
      notes: [
        "Test error after the last evaluated round, mean over repetitions. MC: the mean of "
          + "T = \(p.testMCSamples) MC-dropout softmax passes (for the deterministic CNN its one "
          + "dropout-off pass); dropout off: one deterministic pass.",
        "The paper's numbers (Table 2 of Gal et al. 2017) are after 1000 acquired images with "
          + "5000 validation points; here \(p.validation) validation points are held out of the "
          + "pool, and \(weightDecay).",
      ]
    )
  }

  static func percent(_ value: Double) -> String {
    value.rounded() == value ? String(format: "%.0f%%", value) : String(format: "%.2f%%", value)
  }

  // MARK: - Small last batches

  /// A round whose training ended every epoch with a small partial batch (one Adam step on a
  /// few images), and how far the accuracy there fell below its neighbours.
  public struct SmallBatchRound: Sendable, Equatable {
    /// Labelled images in that round.
    public var labelled: Int
    /// Images in the last batch of each epoch.
    public var lastBatch: Int
    /// Mean over the cells and repetitions that reached the round and both neighbours of
    /// `accuracy - (previous + next) / 2`, in percentage points, by the figure's metric per
    /// model (negative: a dip); nil where no run has both neighbours yet.
    public var dip: Double?
  }

  /// The rounds of this protocol whose last batch holds fewer than an eighth of the batch size,
  /// with the dips they show (only when the last batch is kept; dropping it has none).
  public func smallBatchRounds(metric: MetricSelection = .natural) -> [SmallBatchRound] {
    let p = plan.profile.parameters
    guard p.lastBatch == .keep else { return [] }
    var rounds: [SmallBatchRound] = []
    for round in 0...p.rounds {
      let labelled = p.initialLabelled + round * p.acquireCount
      let last = labelled % p.batchSize
      guard labelled > p.batchSize, last > 0, last * 8 < p.batchSize else { continue }
      var dips: [Double] = []
      for cell in plan.cells {
        guard let points = curves[cell], round + 1 < points.count, round >= 1 else { continue }
        let m = metric.metric(for: cell.model)
        let neighbours = (points[round - 1].accuracy(m) + points[round + 1].accuracy(m)) / 2
        dips.append(100 * (points[round].accuracy(m) - neighbours))
      }
      rounds.append(
        SmallBatchRound(
          labelled: labelled,
          lastBatch: last,
          dip: dips.isEmpty ? nil : dips.reduce(0, +) / Double(dips.count)
        )
      )
    }
    return rounds
  }

  // MARK: - Values

  /// The values documents can quote with `{{value NAME}}`.
  ///
  /// In a complete report they are plain (`97.12%`, `1000`). In a partial one every value says
  /// where it comes from: the protocol's counts are marked as planned, and each final accuracy
  /// names the acquired images and the repetitions it was measured on (or that none is yet),
  /// so that no sentence of the document states more than the data holds.
  public var values: [String: String] {
    let p = plan.profile.parameters
    let complete = isComplete
    func planned(_ value: Int) -> String { complete ? String(value) : "\(value) (planned)" }
    var values: [String: String] = [
      "rounds": planned(p.rounds),
      "acquired.total": planned(p.totalAcquired),
      "repetitions": planned(p.repetitions),
      // In words, with the noun's number: "1 repetition", "3 repetitions (planned)".
      "repetitions.text": complete ? p.repetitionsText : "\(p.repetitionsText) (planned)",
      "profile": plan.profile.name,
    ]
    // Every parameter as resolved, e.g. `parameter.pool-size`.
    for spec in ProfileOverride.specs { values["parameter.\(spec.key)"] = spec.value(in: p) }
    for (acquisition, model, dataset) in acquisitions.flatMap({ a in
      models.filter { $0.supports(a) }.flatMap { m in plan.datasets.map { (a, m, $0) } }
    }) {
      do {
        let suffix =
          "\(acquisition.rawValue).\(model.rawValue)" + datasetSuffix(dataset, slug: true)
        let runs = runs(acquisition, model, dataset: dataset)
        // The furthest round any repetition has evaluated, averaged over the repetitions that
        // reached it: never a mean of different rounds.
        // Round 0 (before any acquisition) is shared by every cell of a repetition, so a
        // cell with only that round has not started: its accuracy there is no result of it.
        guard let furthest = runs.compactMap({ $0.points.last?.acquired }).max(),
          furthest > 0 || complete
        else {
          values["final.mc.\(suffix)"] = "– (not computed yet)"
          values["final.det.\(suffix)"] = "– (not computed yet)"
          continue
        }
        let finals = runs.compactMap { run in run.points.first { $0.acquired == furthest } }
        let mc = finals.map(\.accuracyMC).reduce(0, +) / Double(finals.count)
        let det = finals.map(\.accuracyDeterministic).reduce(0, +) / Double(finals.count)
        let origin =
          complete
          ? "" : " (at \(furthest) acquired, \(finals.count) of \(runs.count) repetitions so far)"
        values["final.mc.\(suffix)"] = String(format: "%.2f%%", 100 * mc) + origin
        values["final.det.\(suffix)"] = String(format: "%.2f%%", 100 * det) + origin
      }
    }
    for acquisition in acquisitions
    where [UncertaintySource.mcDropout, .deterministic].allSatisfy({
      models.contains($0) && $0.supports(acquisition)
    }) {
      for dataset in plan.datasets {
        let name = "paired.\(acquisition.rawValue)" + datasetSuffix(dataset, slug: true)
        let pairs = pairedRuns(acquisition, dataset: dataset)
        for threshold in [10.0, 5.0] {
          values["\(name).\(Int(threshold))"] = pairedCrossings(pairs, errorPercent: threshold)
        }
        values["\(name).ahead"] = pairedRoundsAhead(pairs)
      }
    }
    return values
  }

  // MARK: - Paired comparisons

  /// The Bayesian and the deterministic run of one acquisition function in one repetition.
  /// The cells of a repetition share their split, initial set, initial weights and scored
  /// subsets, so they compare in pairs.
  struct RunPair {
    var repetition: Int
    /// The Bayesian CNN's evaluated rounds.
    var bayesian: [CurvePoint]
    /// The deterministic CNN's evaluated rounds.
    var deterministic: [CurvePoint]
  }

  /// The pairs of `acquisition` on `dataset`, for each repetition that has both runs.
  func pairedRuns(_ acquisition: AcquisitionFunction, dataset: DatasetVariant) -> [RunPair] {
    let deterministic = Dictionary(
      runs(acquisition, .deterministic, dataset: dataset).map { ($0.repetition, $0.points) },
      uniquingKeysWith: { first, _ in first }
    )
    return runs(acquisition, .mcDropout, dataset: dataset).compactMap { run in
      deterministic[run.repetition].map {
        RunPair(repetition: run.repetition, bayesian: run.points, deterministic: $0)
      }
    }
  }

  /// Each model's metric in a pair, as the figure reads it (``MetricSelection/natural``): the
  /// Bayesian CNN's MC-averaged accuracy, the deterministic CNN's dropout-off accuracy.
  static let pairedMetrics = (
    bayesian: MetricSelection.natural.metric(for: .mcDropout),
    deterministic: MetricSelection.natural.metric(for: .deterministic)
  )

  /// Value `paired.<function>.<error>`: in how many repetitions the Bayesian CNN reached
  /// `errorPercent` test error with fewer acquired images than the deterministic CNN, each by
  /// its own metric (``pairedMetrics``), with each pair's crossings rounded as shown
  /// (``crossing(_:errorPercent:metric:)``), e.g. "2 of 3 repetitions (r0: 198 against 255, r1:
  /// 197 against 226, r2: 217 against 206)".
  ///
  /// A pair counts when one model got there first: a run that ended without reaching the error
  /// loses to one that reached it. Pairs that neither won (both ended without reaching it, or
  /// equal rounded crossings) are named after the count, and so are pairs with a run still
  /// going that has not reached it yet.
  func pairedCrossings(_ pairs: [RunPair], errorPercent: Double) -> String {
    let total = plan.profile.parameters.totalAcquired
    let metrics = Self.pairedMetrics
    // Rounded as shown; nil: not reached by the end; absent: not reached yet, still going.
    func reached(_ points: [CurvePoint], _ metric: AccuracyMetric) -> Int?? {
      if let crossing = Self.crossing(points, errorPercent: errorPercent, metric: metric) {
        return .some(Int(crossing.rounded()))
      }
      return (points.last?.acquired ?? 0) >= total ? .some(nil) : nil
    }
    var bayesianFirst = 0
    var decided: [String] = []
    var neither: [String] = []
    var pending: [String] = []
    for pair in pairs {
      guard let bayesian = reached(pair.bayesian, metrics.bayesian),
        let deterministic = reached(pair.deterministic, metrics.deterministic)
      else {
        pending.append("r\(pair.repetition)")
        continue
      }
      switch (bayesian, deterministic) {
      case (nil, nil):
        neither.append("r\(pair.repetition): neither by \(total)")
      case (let b?, let d?) where b == d:
        neither.append("r\(pair.repetition): both at \(b)")
      default:
        if let b = bayesian, b < deterministic ?? .max { bayesianFirst += 1 }
        let text = { (crossing: Int?) in crossing.map(String.init) ?? "not reached by \(total)" }
        decided.append("r\(pair.repetition): \(text(bayesian)) against \(text(deterministic))")
      }
    }
    if decided.isEmpty && neither.isEmpty {
      return "– (no repetition has reached \(Self.percent(errorPercent)) error with both "
        + "models yet)"
    }
    let noun = decided.count == 1 ? "repetition" : "repetitions"
    var parts = [
      decided.isEmpty
        ? "no repetition"
        : "\(bayesianFirst) of \(decided.count) \(noun) (\(decided.joined(separator: ", ")))"
    ]
    if !neither.isEmpty { parts.append(neither.joined(separator: ", ")) }
    if !pending.isEmpty { parts.append(pending.joined(separator: ", ") + " not there yet") }
    return parts.joined(separator: "; ")
  }

  /// Value `paired.<function>.ahead`: per repetition, in how many of the rounds after round 0
  /// that both models have evaluated the Bayesian CNN's test accuracy was the higher, each by
  /// its own metric (``pairedMetrics``), e.g. "89, 97 and 66 of 100 rounds (r0, r1, r2)";
  /// repetitions with no such round yet are named as not there yet.
  func pairedRoundsAhead(_ pairs: [RunPair]) -> String {
    let metrics = Self.pairedMetrics
    var counts: [(repetition: Int, ahead: Int, rounds: Int)] = []
    var pending: [String] = []
    for pair in pairs {
      let deterministic = Dictionary(
        pair.deterministic.map { ($0.acquired, $0.accuracy(metrics.deterministic)) },
        uniquingKeysWith: { first, _ in first }
      )
      var ahead = 0
      var rounds = 0
      for point in pair.bayesian where point.acquired > 0 {
        guard let other = deterministic[point.acquired] else { continue }
        rounds += 1
        if point.accuracy(metrics.bayesian) > other { ahead += 1 }
      }
      if rounds > 0 {
        counts.append((pair.repetition, ahead, rounds))
      } else {
        pending.append("r\(pair.repetition)")
      }
    }
    guard !counts.isEmpty else { return "– (no round evaluated by both models yet)" }
    let sameRounds = Set(counts.map(\.rounds)).count == 1
    let numbers = counts.map { sameRounds ? "\($0.ahead)" : "\($0.ahead) of \($0.rounds)" }
    let list =
      numbers.count == 1
      ? numbers[0]
      : numbers.dropLast().joined(separator: ", ") + " and " + numbers[numbers.count - 1]
    return list + (sameRounds ? " of \(counts[0].rounds)" : "") + " rounds ("
      + counts.map { "r\($0.repetition)" }.joined(separator: ", ") + ")"
      + (pending.isEmpty ? "" : "; " + pending.joined(separator: ", ") + " not there yet")
  }
}
