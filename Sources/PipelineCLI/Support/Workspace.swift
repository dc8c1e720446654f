import Experiments
import Foundation
import Notebook
import PipelineCore
import Reports

#if canImport(Glibc)
  import Glibc
#endif

/// Everything one command needs to work on a target: the document, the resolved plan, the
/// store and a runner wired to the console.
struct Workspace {
  let options: DataOptions
  let document: NotebookDocument
  /// The whole target: every cell, as the report shows it.
  let plan: ExperimentPlan
  /// What this command computes: ``plan``, or only the cells matching `--cells`.
  let computePlan: ExperimentPlan
  /// The `--cells` globs, if any: trimmed, sorted, without repeats, separated by commas.
  let cellPattern: String?
  /// The report's name (its files are `<name>.md`, `<name>.html` and `<name>/`): the target
  /// for the paper profile without command-line overrides, so that only the paper protocol
  /// writes the committed `Reports/fig2.md`; `<target>-<profile>` for another profile; and a
  /// suffix of the resolved parameters' digest when `--set` overrides are given, so that no
  /// run overwrites the report of another protocol.
  let reportName: String
  let runner: PipelineRunner
  let console: ConsoleObserver

  /// The run-record name (the roots of `pipeline gc`, the provenance of reports): target,
  /// profile, a digest of the resolved parameters when `--set` overrides are given, and the
  /// `--cells` glob of a partial run, so that runs of different protocols or cells keep each
  /// other's entries and records.
  var recordName: String { Self.recordName(baseRecordName, cells: cellPattern) }

  /// The run-record name of the whole target (no `--cells` glob).
  var baseRecordName: String {
    "\(plan.target).\(plan.profile.name)" + (overridden ? "." + parametersDigest : "")
  }

  /// The run-record name of a run of `base`'s target restricted to the `--cells` glob `cells`.
  static func recordName(_ base: String, cells: String?) -> String {
    base + (cells.map { ".cells-" + $0.map { $0.isLetter || $0.isNumber ? $0 : "_" } } ?? "")
  }

  /// What the run record says about a run of this workspace, in the user's terms: `gc` groups
  /// and describes runs by these, `status` compares like with like.
  var recordLabels: [String: String] {
    let cells: [String] = cellPattern.map { ["--cells", $0] } ?? []
    let command = SuggestedCommand.shellLine(
      ["pipeline", "reproduce", plan.target, "--profile", plan.profile.name]
        + plan.profile.overrides.flatMap { ["--set", $0.description] } + cells
    )
    var labels: [String: String] = [
      "target": plan.target,
      "profile": plan.profile.name,
      "parameters-digest": ParameterDigest.of(plan.profile.parameters),
      "command": command,
      "origin": "computed",
    ]
    if !plan.profile.overrides.isEmpty {
      labels["overrides"] = plan.profile.overrides.map(\.description).joined(separator: " ")
    }
    if let cellPattern { labels["cells"] = cellPattern }
    return labels
  }

  /// The resolved parameters by `--set` key, as `status` and the report spell them.
  var recordParameters: [String: String] {
    Dictionary(
      uniqueKeysWithValues: ProfileOverride.specs.map {
        ($0.key, $0.value(in: plan.profile.parameters))
      }
    )
  }

  /// Whether `--set` overrides were given.
  let overridden: Bool
  /// The first 8 hex digits of the resolved parameters' digest.
  var parametersDigest: String { String(ParameterDigest.of(plan.profile.parameters).prefix(8)) }

  init(
    target: String,
    options: DataOptions,
    profile: ProfileOptions,
    cells pattern: String? = nil,
    mirror: MirrorOptions? = nil,
    jobs: Int = 1,
    progress: Bool = true,
    use: DataUse = .compute
  ) throws {
    self.options = options
    document = try options.catalog.document(target)
    let (base, overrides) = try profile.resolve()
    let resources = ExperimentResources()
    plan = try ExperimentPlan(
      document: document,
      profile: base,
      overrides: overrides,
      resources: resources
    )
    // Shell-style globs separated by commas (no cell name holds one), trimmed; sorted and
    // without repeats, so that run and Slurm job records do not depend on their order.
    let globs = pattern.map { text in
      let items = text.split(separator: ",", omittingEmptySubsequences: false)
      return Set(items.map { $0.trimmingCharacters(in: .whitespaces) }).sorted()
    }
    cellPattern = globs?.joined(separator: ",")
    overridden = !overrides.isEmpty
    reportName =
      base.name == Profile.paper.name && overrides.isEmpty
      ? plan.target
      : "\(plan.target)-\(base.name)"
        + (overrides.isEmpty ? "" : "-" + ParameterDigest.of(plan.profile.parameters).prefix(8))
    if let pattern, let globs {
      // Each glob must match a cell: a typo selects nothing rather than fewer cells.
      let names = plan.cells.map(\.description)
      if globs.contains("") {
        throw CLIError.invalidArgument(
          "--cells '\(pattern)' has an empty glob; separate globs by single commas, e.g. "
            + "'mean-std.*,random.*'"
        )
      }
      if let glob = globs.first(where: { glob in !names.contains { fnmatch(glob, $0, 0) == 0 } }) {
        throw CLIError.invalidArgument(
          "--cells '\(glob)' matches no cell of \(target); its cells are "
            + names.joined(separator: ", ")
            + ". Use a shell-style glob such as '*.r0' (one repetition) or 'bald.*', or several "
            + "separated by commas."
        )
      }
      let matching = plan.cells.filter { cell in
        globs.contains { fnmatch($0, cell.description, 0) == 0 }
      }
      computePlan = try ExperimentPlan(
        target: plan.target,
        profile: plan.profile,
        cells: matching,
        resources: resources
      )
    } else {
      computePlan = plan
    }
    let exists = FileManager.default.fileExists(atPath: options.dataDirectory.path)
    switch use {
    case .compute:
      try Self.checkWritable(options.dataDirectory)  // its message before the store's own
    case .read:
      try Self.requireDataDirectory(options.dataDirectory)
    case .preview:
      break
    }
    // A preview of a missing data directory leaves it missing; an existing one gets the
    // store's directories as with any other command.
    let store = try ArtifactStore(
      root: options.cacheDirectory,
      createDirectories: use != .preview || exists
    )
    console = ConsoleObserver(
      quiet: options.quiet,
      showProgress: progress,
      plan: computePlan,
      parallelism: jobs,
      cachedDuration: { store.manifest(forKey: $0)?.durationSeconds }
    )
    runner = Self.runner(
      options: options,
      mirror: mirror,
      jobs: jobs,
      observer: console,
      store: store
    )
  }

  /// What a command does with its data directory.
  enum DataUse {
    /// Computes into it (`reproduce`, `import`): created where missing.
    case compute
    /// Reads what was computed or imported there (`report`, `export`, `replay`, `cancel`): a
    /// missing one is an error that names it, since a mistyped `--data-dir` would otherwise
    /// render or export nothing.
    case read
    /// Only looks, or writes only beside what was computed there (`status`; `inspect`, which
    /// refuses a round not computed yet before it writes): a missing one holds nothing yet and
    /// is left missing.
    case preview
  }

  /// A runner over the data directory's cache.
  ///
  /// - Parameters:
  ///   - mirror: where the download stage reads MNIST; nil for commands that never compute it.
  ///   - store: the data directory's store, when the caller opened it already (one store per
  ///     process: the observer reads the same one).
  static func runner(
    options: DataOptions,
    mirror: MirrorOptions? = nil,
    jobs: Int,
    observer: any PipelineObserver,
    store: ArtifactStore? = nil
  ) throws
    -> PipelineRunner
  {
    try checkWritable(options.dataDirectory)
    return runner(
      options: options,
      mirror: mirror,
      jobs: jobs,
      observer: observer,
      store: try store ?? ArtifactStore(root: options.cacheDirectory)
    )
  }

  /// A runner over `store`, the data directory's cache opened by the caller.
  static func runner(
    options: DataOptions,
    mirror: MirrorOptions? = nil,
    jobs: Int,
    observer: any PipelineObserver,
    store: ArtifactStore
  ) -> PipelineRunner {
    var settings = ["data-dir": options.dataDirectory.path]
    if let mirror = mirror?.resolved { settings["mnist-mirror"] = mirror }
    return PipelineRunner(
      store: store,
      jobs: jobs,
      toolVersion: ToolInfo.version,
      settings: settings,
      observer: observer,
      environment: ToolInfo.environment
    )
  }

  /// The cell of the target named `name` (as `status` lists it, e.g. `bald.bayesian.r0`).
  ///
  /// - Throws: ``CLIError/unknownCell(_:known:)`` listing the target's cells.
  func cell(named name: String) throws -> Cell {
    guard let cell = plan.cells.first(where: { $0.description == name }) else {
      throw CLIError.unknownCell(name, known: plan.cells.map(\.description))
    }
    return cell
  }

  /// Runs what ``computePlan`` lacks and records the run under ``recordName``.
  @discardableResult
  func run() throws -> RunSummary {
    try runner.run(
      computePlan.graph,
      recordAs: recordName,
      labels: recordLabels,
      parameters: recordParameters
    )
  }

  /// Fails, naming it, when the data directory of a command that reads what was computed there
  /// (`report`, `export`, `replay`, `cancel`, `gc`) is missing, since a mistyped `--data-dir`
  /// would otherwise read or collect nothing; and, with the fix, when it cannot be written.
  static func requireDataDirectory(_ directory: URL) throws {
    guard FileManager.default.fileExists(atPath: directory.path) else {
      throw CLIError.noDataDirectory(directory.path)
    }
    try checkWritable(directory)
  }

  /// Fails early, with the fix, when the data directory cannot be written.
  static func checkWritable(_ directory: URL) throws {
    let manager = FileManager.default
    var ancestor = directory
    while ancestor.path != "/" {
      var isDirectory: ObjCBool = false
      if manager.fileExists(atPath: ancestor.path, isDirectory: &isDirectory) {
        if !isDirectory.boolValue {
          throw CLIError.dataDirectory(
            directory.path,
            "cannot be created: \(ancestor.path) is a regular file, not a folder"
          )
        }
        break
      }
      ancestor = ancestor.deletingLastPathComponent()
    }
    do {
      try manager.createDirectory(at: directory, withIntermediateDirectories: true)
    } catch {
      throw CLIError.dataDirectory(
        directory.path,
        "cannot be created (\(error.localizedDescription))"
      )
    }
    guard manager.isWritableFile(atPath: directory.path) else {
      throw CLIError.dataDirectory(directory.path, "is not writable")
    }
  }

  // MARK: - Results and reports

  /// What the cache holds for this target at one moment: every stage's status and the results
  /// read through verified artifacts (a report needs both; the statuses are resolved once).
  struct CacheSnapshot {
    /// Each stage's status.
    let statuses: [StageID: StageStatus]
    /// The results committed so far.
    let results: ExperimentResults
  }

  /// The statuses and the results committed so far.
  func snapshot() throws -> CacheSnapshot {
    try runner.sharingCache {
      let statuses = try runner.status(plan.graph)
      let results = try ExperimentResults(plan: plan) { id, artifact in
        guard case .cached(let key)? = statuses[id] else { return nil }
        return try runner.store.verifiedArtifactURL(key: key, name: artifact, observer: console)
      }
      return CacheSnapshot(statuses: statuses, results: results)
    }
  }

  /// The arguments of `pipeline` that compute this target with this profile and overrides.
  var reproduceArguments: [String] {
    ["reproduce", plan.target, "--profile", plan.profile.name]
      + plan.profile.overrides.flatMap { ["--set", $0.description] }
  }

  /// The command that computes this target with this profile and overrides.
  var reproduceCommand: String { SuggestedCommand.shellLine(["pipeline"] + reproduceArguments) }

  /// The command that continues every cell of the target (a partial report suggests it):
  /// ``reproduceCommand`` with `--data-dir` unless it is the default, and never `--cells`,
  /// which would take only those cells further.
  ///
  /// A report rendered from result bundles (no recorded run of the whole target), as the
  /// committed paper evidence is, is read where that cache does not exist: the command first
  /// imports the folders of the bundles that brought this target's cells (as the import
  /// records name them, relative to the working directory, the repository root when run as
  /// documented; several targets may share cells, e.g. Table 1 and Figure 2). Render committed
  /// reports with the default data directory, so that the command names none.
  func continueCommand(recorded: RecordedRun?) -> String {
    let reproduce = ["pipeline"] + reproduceArguments
    let cells = Set(plan.cells.map(\.description))
    let folders = Set(
      RunRecord.loadAll(from: runner.runsDirectory).compactMap { record -> String? in
        guard record.labels["origin"] == "imported",
          record.labels["profile"] == plan.profile.name,
          let cell = record.labels["cell"], cells.contains(cell),
          let bundle = record.labels["bundle"]
        else { return nil }
        return Self.displayPath(URL(fileURLWithPath: bundle).deletingLastPathComponent())
      }
    ).sorted()
    let data =
      options.dataDirectory == URL(fileURLWithPath: DataOptions.defaultDataDir).standardizedFileURL
      ? [] : ["--data-dir", options.dataDir]
    if recorded == nil && !folders.isEmpty {
      // Importing again is a no-op for the entries a data directory already holds.
      return SuggestedCommand.shellLine(["pipeline", "import"] + folders + data) + " && "
        + SuggestedCommand.shellLine(reproduce + data)
    }
    return SuggestedCommand.shellLine(reproduce + data)
  }

  /// `url` relative to the working directory where it lies below it (`Reports/fig2/paper`),
  /// else absolute.
  static func displayPath(_ url: URL) -> String {
    let here = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
      .standardizedFileURL.path
    let path = url.standardizedFileURL.path
    return path.hasPrefix(here + "/") ? String(path.dropFirst(here.count + 1)) : path
  }

  /// Renders the report from the cache and the recorded provenance into `directory`; returns
  /// the written files.
  @discardableResult
  func renderReport(_ snapshot: CacheSnapshot, to directory: URL) throws -> [URL] {
    let results = snapshot.results
    let recorded = RecordedRun.load(options.dataDirectory, recordName)
    let inputs = ReportInputs(
      figures: Dictionary(
        uniqueKeysWithValues: document.figures.map { ($0.id, results.figure($0)) }
      ),
      tables: Dictionary(uniqueKeysWithValues: document.tables.map { ($0.id, results.table($0)) }),
      values: results.values,
      protocolTable: ProtocolDescription.table(
        plan: plan,
        figures: document.figures,
        results: results
      ),
      provenance: provenance(
        statuses: snapshot.statuses,
        recorded: recorded,
        continueCommand: continueCommand(recorded: recorded)
      ),
      completeness: results.isComplete ? .complete : .partial(results.progress),
      calibration: results.calibrationFigure(like: document.figures.first)
    )
    let report = try ReportRenderer.render(document: document, inputs: inputs, name: reportName)
    return try report.write(to: directory)
  }

  /// The provenance block: parameters, inputs, per-cell execution and the recorded run.
  func provenance(
    statuses: [StageID: StageStatus],
    recorded: RecordedRun?,
    continueCommand: String
  ) -> Provenance {
    let p = plan.profile.parameters
    let parameters = ProfileOverride.specs.map {
      NamedValue(name: $0.key, value: $0.value(in: p))
    }
    var inputs: [InputDigest] = []
    // The source files' digests: the download stage's key holds them (its manifest travels
    // in every bundle), else the recorded run's.
    var sources = (recorded?.sourceDigests ?? []).map {
      InputDigest(name: $0.name, sha256: $0.sha256)
    }
    if case .cached(let key)? = statuses[ExperimentPlan.downloadID],
      let manifest = runner.store.manifest(forKey: key)
    {
      inputs = manifest.outputs.sorted { $0.key < $1.key }.map {
        InputDigest(name: "MNIST \($0.key) (logical SHA-256)", sha256: $0.value.sha256)
      }
      if let files = manifest.material.parameters["files"].flatMap({ $0.data(using: .utf8) }),
        let digests = try? JSONDecoder().decode([String: String].self, from: files)
      {
        sources = digests.sorted { $0.key < $1.key }.map {
          InputDigest(name: $0.key, sha256: $0.value)
        }
      }
    }
    inputs += sources
    // Each round's stages of each cell (train, with every ensemble member, evaluate, score,
    // acquire) and its calibrate stage (a group of its own).
    var stagesByRound: [String: [Int: [StageID]]] = [:]
    for node in plan.graph.nodes {
      guard let group = node.group, let round = node.round else { continue }
      stagesByRound[group, default: [:]][round, default: []].append(node.id)
    }
    // A cache entry shared by cells (round 0 is trained once per repetition, and evaluated
    // once per repetition and kind of model) is counted in the first cell that uses it, so
    // that the compute times and stage counts add up to what was computed.
    var counted: Set<String> = []
    let cells = plan.cells.map { cell in
      var cached = 0
      var executed = 0
      var seconds = 0.0
      var laterSeconds = 0.0
      var laterRounds = 0
      var scoringSeconds = 0.0
      var scoringRounds = 0
      var machines: [String: Int] = [:]
      for round in 0...p.rounds {
        let id = ExperimentPlan.stageID(cell, round: round, "evaluate")
        guard statuses[id]?.isCached == true else { continue }
        if recorded?.executedRounds[cell.description]?.contains(round) == true {
          executed += 1
        } else {
          cached += 1
        }
        if round > 0 { laterRounds += 1 }
        let calibration = ExperimentPlan.calibrationGroup(cell)
        for stage in (stagesByRound[cell.description]?[round] ?? [])
          + (stagesByRound[calibration]?[round] ?? [])
        {
          if case .cached(let key)? = statuses[stage], counted.insert(key).inserted,
            let m = runner.store.manifest(forKey: key)
          {
            seconds += m.durationSeconds
            if round > 0 { laterSeconds += m.durationSeconds }
            if stage == ExperimentPlan.stageID(cell, round: round, "score") {
              scoringSeconds += m.durationSeconds
              scoringRounds += 1
            }
            machines[Self.machine(m.environment), default: 0] += 1
          }
        }
      }
      return CellExecution(
        cell: cell.description,
        roundsCached: cached,
        roundsExecuted: executed,
        computeSeconds: seconds,
        computedBy: machines.sorted { $0.key < $1.key }.map {
          "\($0.key): \($0.value) stage\($0.value == 1 ? "" : "s")"
        },
        secondsPerRound: laterRounds > 0 ? laterSeconds / Double(laterRounds) : nil,
        scoringSecondsPerRound: scoringRounds > 0 ? scoringSeconds / Double(scoringRounds) : nil
      )
    }
    let system = recorded?.system ?? SystemInfo.current()
    // Without a record of a run (results imported, or computed by `--cells` runs), the report
    // names the code version that rendered it; the per-cell table names what computed what.
    let code: (commit: String?, dirty: Bool, checkout: String?) =
      recorded.map { ($0.gitCommit, $0.gitDirty, nil) } ?? ToolInfo.codeVersion
    return Provenance(
      command: recorded?.command ?? reproduceCommand,
      gitCommit: code.commit,
      gitDirty: code.dirty,
      checkoutCommit: code.checkout,
      profile: plan.profile.name + plan.profile.overrides.map { " --set \($0)" }.joined(),
      profileNotice: plan.profile.notice,
      parameters: parameters,
      parametersDigest: ParameterDigest.of(p),
      rootSeed: UInt64(p.seed),
      inputs: inputs,
      cells: cells,
      software: recorded?.software ?? ToolInfo.softwareVersions(),
      system: system,
      wallSeconds: recorded?.wallSeconds ?? 0,
      continueCommand: continueCommand
    )
  }
}

extension Workspace {
  /// One line naming the code and machine of a manifest's environment.
  static func machine(_ environment: [String: String]?) -> String {
    // Entries committed before manifests recorded their machine (November 2026) have none.
    guard let environment else { return "machine not recorded (computed by an earlier version)" }
    let code = environment["code-version"].map { String($0.prefix(7)) } ?? "?"
    let dirty = environment["code-dirty"] == "true" ? " (uncommitted changes)" : ""
    return "\(code)\(dirty), \(environment["onednn-isa"] ?? "?"), "
      + "\(environment["threads"] ?? "?") threads, \(environment["cpu"] ?? "?")"
  }
}

/// Errors of the command-line layer, each with its fix.
enum CLIError: Error, CustomStringConvertible {
  case dataDirectory(String, String)
  /// A command that reads results was pointed at a data directory that does not exist.
  case noDataDirectory(String)
  case unknownCell(String, known: [String])
  case roundOutOfRange(Int, max: Int)
  case replayFailed(String)
  case invalidArgument(String)
  /// No target documents in the folder `list` read.
  case noTargets(directory: String)
  /// `import` was given a folder without bundles.
  case noBundles(folder: String)
  /// `report` found no evaluated round of the target beyond the shared round 0;
  /// `bundleFolders` hold committed bundles of the profile (`Reports/*/PROFILE`), and
  /// `reproduceArguments` compute the target (`reproduce TARGET --profile P --set ...`).
  case nothingToReport(
    target: String,
    profile: String,
    dataDirectory: String,
    bundleFolders: [String],
    reproduceArguments: [String]
  )
  /// A write failed for lack of space; `program` is the tool as the user invoked it.
  case diskFull(String, dataDirectory: String, program: String)

  var description: String {
    switch self {
    case .dataDirectory(let path, let problem):
      "data directory \(path) \(problem); pass --data-dir DIR with a writable directory"
    case .noDataDirectory(let path):
      "data directory \(path) does not exist, so nothing was computed or imported there; "
        + "check --data-dir (the default is ./Data), or fill it first with "
        + "`pipeline reproduce TARGET` or `pipeline import BUNDLES`"
    case .unknownCell(let cell, let known):
      "unknown cell \"\(cell)\"; cells of this target: \(known.joined(separator: ", "))"
    case .roundOutOfRange(let round, let max):
      "round \(round) is out of range; rounds are 0...\(max)"
    case .replayFailed(let message): message
    case .invalidArgument(let message): message
    case .noTargets(let directory):
      "no target documents (*.md with a dbal-experiment block) in \(directory); run "
        + "`pipeline` from the repository root, or pass --pipelines-dir PATH/TO/Pipelines"
    case .noBundles(let folder):
      "\(folder) holds no .h5 bundle; write bundles there with "
        + "`\(SuggestedCommand.shellLine(["pipeline", "export", "TARGET", "--output", folder]))`"
    case .nothingToReport(let target, let profile, let dataDirectory, let folders, let reproduce):
      "nothing of \(target) (profile \(profile)) beyond the shared round 0 is evaluated in "
        + "\(dataDirectory), so no report was written (it would replace any rendered one with "
        + "an empty one); "
        + (folders.isEmpty
          ? "compute the results first"
          : "import the committed results first (`"
            + SuggestedCommand.tool(["import"] + folders + ["--data-dir", dataDirectory])
            + "`) or compute them") + " (`"
        + SuggestedCommand.tool(reproduce + ["--data-dir", dataDirectory])
        + "`), or check --data-dir and --profile"
    case .diskFull(let error, let dataDirectory, let program):
      "\(error)\nThe disk holding \(dataDirectory) is full. Everything committed so far is "
        + "kept: free some space (`"
        + SuggestedCommand.tool(["gc", "--data-dir", dataDirectory], invokedAs: program)
        + "` removes cache entries no run uses; `"
        + SuggestedCommand.tool(
          ["gc", "--prune", "models", "--data-dir", dataDirectory],
          invokedAs: program
        )
        + "` drops the trained models) or pass --data-dir on a larger disk, then rerun the "
        + "same command."
    }
  }
}

extension ExperimentPlan {
  /// The rounds of `cell` evaluated so far, counted as the report counts them: rounds 0, 1, …
  /// up to the first whose `evaluate` stage is not cached (`status`, `export` and the report's
  /// progress table give the same number).
  func roundsEvaluated(_ cell: Cell, statuses: [StageID: StageStatus]) -> Int {
    (0...profile.parameters.rounds).prefix {
      statuses[Self.stageID(cell, round: $0, "evaluate")]?.isCached == true
    }.count
  }
}
