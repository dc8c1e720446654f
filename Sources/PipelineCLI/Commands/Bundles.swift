import ArgumentParser
import Experiments
import Foundation
import PipelineCore

/// The artifact groups `export --include` and `gc --prune` name, in the user's words.
enum HeavyArtifacts: String, CaseIterable, ExpressibleByArgument {
  /// Trained weights (`model`, about 1.8 MB per round).
  case models
  /// Pool scores (`scores`, about 34 KB per round).
  case scores

  /// The artifact name in the cache.
  var artifact: String {
    switch self {
    case .models: "model"
    case .scores: "scores"
    }
  }

  /// Parses `models,scores`.
  static func parse(_ text: String, option: String) throws -> Set<String> {
    var names: Set<String> = []
    for item in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
      guard let group = HeavyArtifacts(rawValue: item) else {
        throw ValidationError(
          "\(option) '\(item)' is not one of "
            + allCases.map(\.rawValue).joined(separator: ", ") + " (comma-separated)"
        )
      }
      names.insert(group.artifact)
    }
    return names
  }
}

/// `pipeline export TARGET`: one result bundle per cell, to carry results to another machine.
struct Export: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract:
      "Write one compressed HDF5 result bundle per cell of a target (for `pipeline import`).",
    discussion: """
      Each bundle holds the manifests of the cell's committed stages (every round so far), the \
      small artifacts (splits, labelled sets, metrics) and the manifests of the shared upstream \
      stages. Models and pool scores travel as digests only, unless --include names them; a \
      machine that needs them recomputes and verifies them. The MNIST download is never copied.

      Of an unfinished target, the bundle of the cell that computed them (or, when --cells \
      leaves that cell out, of the first exported cell that needs them) also carries the \
      models and scores that stages not computed yet will read (the next round's model of an \
      unfinished cell; a repetition's round-0 model while cells that share it have not \
      started), so that another machine continues from them. Recomputed there instead, on \
      another CPU or thread count, they would differ in the last bits and stop at the digest \
      check. --no-continuation leaves them out.
      """
  )

  @Argument(help: "The target (see `pipeline list`).")
  var target: String

  @OptionGroup var profile: ProfileOptions
  @OptionGroup var data: DataOptions

  @Option(
    help: ArgumentHelp(
      "Export only the cells matching this shell-style glob, e.g. '*.r0' (or several, "
        + "separated by commas).",
      valueName: "glob"
    )
  )
  var cells: String?

  @Option(help: "The folder that receives one <cell>.h5 per cell (created if needed).")
  var output: String

  @Option(help: "Also carry these heavy artifacts (comma-separated): models, scores.")
  var include: String?

  @Flag(help: "Leave out the models and scores that stages not computed yet will read.")
  var noContinuation = false

  func run() throws {
    let included = try include.map { try HeavyArtifacts.parse($0, option: "--include") } ?? []
    let workspace = try Workspace(
      target: target,
      options: data,
      profile: profile,
      cells: cells,
      progress: false,
      use: .read
    )
    let plan = workspace.computePlan
    let store = workspace.runner.store
    let heavy = Set(HeavyArtifacts.allCases.map(\.artifact))
    let shared = [ExperimentPlan.downloadID, ExperimentPlan.preprocessID]
    let folder = URL(fileURLWithPath: output)
    var written = 0
    try workspace.runner.sharingCache {
      // The whole target's statuses (the exported cells' stages among them): continuation
      // looks at every cell's frontier.
      let statuses = try workspace.runner.status(workspace.plan.graph)
      let next =
        noContinuation
        ? [:]
        : Self.continuationArtifacts(
          workspace.plan,
          exporting: plan.cells,
          statuses: statuses,
          store: store
        )
      for cell in plan.cells {
        // A derived dataset (Repeated MNIST) travels like MNIST: as a digest.
        let data = cell.dataset == .mnist ? shared : shared + [ExperimentPlan.dataID(cell.dataset)]
        var ids =
          data + [ExperimentPlan.splitID(repetition: cell.repetition, dataset: cell.dataset)]
        // The cell's stages and its calibrate stages (a group of their own).
        let groups = [cell.description, ExperimentPlan.calibrationGroup(cell)]
        ids += plan.graph.nodes.filter { groups.contains($0.group ?? "") }.map(\.id)
        var entries: [ResultBundle.Entry] = []
        var carriedForNext = 0
        for id in ids {
          guard case .cached(let key)? = statuses[id] else { continue }
          let isData = data.contains(id)
          // A stage several cells share (a repetition's round 0) carries a continuation
          // artifact in one bundle only: its carrier's.
          func continues(_ name: String) -> Bool {
            heavy.contains(name) && !included.contains(name)
              && next[Self.artifactKey(key, name)] == id
          }
          let entry = try store.bundleEntry(key: key) { name in
            !isData && (!heavy.contains(name) || included.contains(name) || continues(name))
          }
          for name in entry.manifest.outputs.keys.sorted() where continues(name) {
            if entry.artifacts[name] != nil {
              carriedForNext += 1
            } else {
              printError(
                "note: \(id) \(name) is needed to continue but pruned here: it travels as its "
                  + "digest, and the machine that continues recomputes it"
              )
            }
          }
          entries.append(entry)
        }
        let evaluated = plan.roundsEvaluated(cell, statuses: statuses)
        let url = folder.appendingPathComponent("\(cell).h5")
        try ResultBundle(
          metadata: [
            "target": plan.target, "profile": plan.profile.name, "cell": cell.description,
            "parameters_digest": ParameterDigest.of(plan.profile.parameters),
            "rounds_evaluated": "\(evaluated) of \(plan.profile.parameters.rounds + 1)",
            "exported_by": ToolInfo.environment["code-version"] ?? "unknown",
          ],
          entries: entries
        ).write(to: url)
        let bytes =
          (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? 0
        let carried =
          carriedForNext == 0
          ? ""
          : ", \(carriedForNext) model\(carriedForNext == 1 ? "" : "s") or scores carried for "
            + "the stages not computed yet"
        print(
          "\(url.path): \(entries.count) entries, \(evaluated) rounds evaluated\(carried), "
            + "\(bytes) bytes"
        )
        written += 1
      }
    }
    if !data.quiet { printError("exported \(written) cell(s) to \(folder.path)") }
  }
}

extension Export {
  /// The heavy artifacts that another machine needs to continue the target where this cache
  /// stopped, by `key/name`, each with the stage whose bundle carries it.
  ///
  /// They are the heavy inputs of the stages not computed yet at each cell's frontier: the
  /// rounds from its first acquisition not computed yet on (the last round's evaluation once
  /// every acquisition is). Stages behind a frontier that lack an entry (say, evaluations whose
  /// key a code change altered) are left out: carrying the model of every round would make a
  /// bundle of hundreds of MB; such a stage recomputes its model wherever it runs. Only this
  /// target's stages count: a finished target's bundles carry no model, even where another
  /// target's cells would start from one of its models.
  ///
  /// The carrier is one of the exported cells' stages, so that each artifact travels once per
  /// export and what `exporting` needs travels with it: the stage named by the artifact's
  /// manifest where it is exported, else the stage with that key of the first exported cell
  /// (in plan order) that reads it. So a whole target's export carries a shared round-0 model
  /// in the bundle of the cell that computed it, an export of cells not started yet (say
  /// Table 1's Mean STD cells, whose round-0 model fig2's BALD cell computed) carries it in the
  /// first of them, and an export of a finished cell alone carries nothing for its neighbours.
  ///
  /// - Parameters:
  ///   - plan: the whole target, whose frontiers decide what is needed.
  ///   - exporting: the cells whose bundles are written.
  /// - Returns: the carrier stage of each needed artifact, by `key/name`; artifacts that no
  ///   exported stage produces are left out.
  static func continuationArtifacts(
    _ plan: ExperimentPlan,
    exporting: [Cell],
    statuses: [StageID: StageStatus],
    store: ArtifactStore
  ) -> [String: StageID] {
    let heavy = Set(HeavyArtifacts.allCases.map(\.artifact))
    func isCached(_ id: StageID) -> Bool { statuses[id]?.isCached == true }
    var frontier: [String: Int] = [:]
    for cell in plan.cells {
      let rounds = plan.profile.parameters.rounds
      let first =
        (0..<rounds).first { !isCached(ExperimentPlan.stageID(cell, round: $0, "acquire")) }
        ?? rounds
      frontier[cell.description] = first
      frontier[ExperimentPlan.calibrationGroup(cell)] = first
    }
    // The cell of each group: a cell's own stages and its calibrate stages.
    var cellOfGroup: [String: String] = [:]
    for cell in plan.cells {
      cellOfGroup[cell.description] = cell.description
      cellOfGroup[ExperimentPlan.calibrationGroup(cell)] = cell.description
    }
    // The needed artifacts, each with the cells whose stages not computed yet read it.
    var readers: [String: Set<String>] = [:]
    for node in plan.graph.nodes where !isCached(node.id) {
      if let group = node.group, let start = frontier[group], (node.round ?? 0) < start {
        continue
      }
      for case .artifact(let upstream, let name) in node.inputs.values where heavy.contains(name) {
        if case .cached(let key)? = statuses[upstream], let group = node.group,
          let cell = cellOfGroup[group]
        {
          readers[artifactKey(key, name), default: []].insert(cell)
        }
      }
    }
    // Each needed artifact's carrier among the exported stages: the stage that computed it,
    // else the first stage with its key in an exported cell that reads it.
    let exported = Set(exporting.map(\.description))
    var computedBy: [String: StageID] = [:]
    var firstReader: [String: StageID] = [:]
    for node in plan.graph.nodes {
      guard let group = node.group, let cell = cellOfGroup[group], exported.contains(cell),
        case .cached(let key)? = statuses[node.id], let manifest = store.manifest(forKey: key)
      else { continue }
      for name in manifest.outputs.keys {
        let id = artifactKey(key, name)
        guard let cells = readers[id] else { continue }
        if manifest.stageID == node.id {
          computedBy[id] = node.id
        } else if cells.contains(cell) && firstReader[id] == nil {
          firstReader[id] = node.id
        }
      }
    }
    return computedBy.merging(firstReader) { computed, _ in computed }
  }

  static func artifactKey(_ key: String, _ name: String) -> String { key + "/" + name }
}

/// `pipeline import PATH...`: add the entries of result bundles to the local cache.
struct Import: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Add the entries of result bundles (files or folders of .h5) to the local cache.",
    discussion: """
      Every digest and key is verified before anything is written; existing entries are never \
      overwritten; each entry is committed atomically. Afterwards `pipeline report` renders \
      without computing, and `pipeline reproduce` computes only what is missing.
      """
  )

  @Argument(help: "Bundle files, or folders holding them.")
  var paths: [String]

  @Option(help: "Refuse bundles of another target (asserts each bundle's target).")
  var target: String?

  @Option(help: "Refuse bundles of another profile (asserts each bundle's profile).")
  var profile: String?

  @OptionGroup var data: DataOptions

  func run() throws {
    // A name that is no target or profile at all is a typo, not a bundle of another one.
    if let target { _ = try data.catalog.document(target) }
    if let profile { _ = try Profile.named(profile) }
    var files: [URL] = []
    for path in paths {
      var isDirectory: ObjCBool = false
      guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
        throw CLIError.invalidArgument("\(path) does not exist; give a bundle file or a folder")
      }
      if isDirectory.boolValue {
        let names = try FileManager.default.contentsOfDirectory(atPath: path)
          .filter { $0.hasSuffix(".h5") && !$0.hasPrefix(".") }.sorted()
        guard !names.isEmpty else {
          throw CLIError.noBundles(folder: path)
        }
        files += names.map { URL(fileURLWithPath: path).appendingPathComponent($0) }
      } else {
        files.append(URL(fileURLWithPath: path))
      }
    }
    // Read and check every bundle before importing any.
    var bundles: [(URL, ResultBundle)] = []
    for file in files {
      let bundle = try ResultBundle(contentsOf: file)
      for (key, expected) in [("target", target), ("profile", profile)] {
        if let expected, bundle.metadata[key] != expected {
          throw PipelineError.invalidBundle(
            path: file.path,
            problem: "it holds \(key) '\(bundle.metadata[key] ?? "?")', not '\(expected)'"
          )
        }
      }
      bundles.append((file, bundle))
    }
    let digestNotes = ParameterDigestNote.lines(bundles.map(\.1), catalog: data.catalog)
    let runner = try Workspace.runner(options: data, jobs: 1, observer: SilentPipelineObserver())
    try runner.sharingCache {
      for (file, bundle) in bundles {
        let report = try runner.store.importBundle(bundle, from: file)
        // A record keeps imported entries alive through `pipeline gc`, like a run's.
        try runner.recordImport(
          named: "import."
            + file.deletingPathExtension().lastPathComponent.map {
              $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" ? $0 : "_"
            },
          manifests: bundle.entries.map(\.manifest),
          labels: bundle.metadata.filter {
            ["target", "profile", "parameters_digest", "cell"].contains($0.key)
          }.reduce(into: ["origin": "imported", "bundle": file.path]) {
            $0[$1.key.replacingOccurrences(of: "_", with: "-")] = $1.value
          }
        )
        let what = [bundle.metadata["target"], bundle.metadata["profile"], bundle.metadata["cell"]]
          .compactMap { $0 }.joined(separator: " ")
        print(
          "\(file.lastPathComponent) (\(what)): \(report.added) entries added, "
            + "\(report.alreadyPresent) already present, \(report.prunedArtifacts) artifacts "
            + "carried as digests only"
        )
      }
    }
    for line in digestNotes { print(line) }
  }
}

/// The note `import` prints when bundles were exported with other parameters than this code
/// resolves for their target and profile: the parameters digest covers every parameter, those
/// a stage does not use and those added later with defaults included, while each entry's cache
/// key covers exactly what its stage uses and is verified entry by entry.
enum ParameterDigestNote {
  /// One line per target, profile and bundle digest that differs from this code's digest;
  /// bundles of a target or profile unknown here, or without a digest, get none.
  static func lines(_ bundles: [ResultBundle], catalog: TargetCatalog) -> [String] {
    // "target profile" -> this code's digest ("" where the target or profile is unknown here).
    var ours: [String: String] = [:]
    var groups: [String: (target: String, profile: String, theirs: String, count: Int)] = [:]
    for bundle in bundles {
      guard let target = bundle.metadata["target"], let profile = bundle.metadata["profile"],
        let theirs = bundle.metadata["parameters_digest"]
      else { continue }
      let name = "\(target) \(profile)"
      let mine = ours[name] ?? digest(target: target, profile: profile, catalog: catalog) ?? ""
      ours[name] = mine
      guard !mine.isEmpty, mine != theirs else { continue }
      groups[name + " " + theirs, default: (target, profile, theirs, 0)].count += 1
    }
    return groups.sorted { $0.key < $1.key }.map { _, group in
      let one = group.count == 1
      return "note: \(group.count) bundle\(one ? "" : "s") of \(group.target) (profile "
        + "\(group.profile)) carr\(one ? "ies" : "y") parameters digest \(group.theirs.prefix(8)), "
        + "this code's is \(ours["\(group.target) \(group.profile)"]!.prefix(8)) (exported by "
        + "other code, e.g. before a parameter with a default was added, or with --set). The "
        + "entries are still valid: each entry's cache key is verified on its own, and the "
        + "stages whose keys match this code's reuse them"
    }
  }

  /// This code's parameters digest for `target` under `profile` (no `--set`), or nil when
  /// either is unknown here.
  static func digest(target: String, profile: String, catalog: TargetCatalog) -> String? {
    guard let document = try? catalog.document(target), let base = try? Profile.named(profile),
      let plan = try? ExperimentPlan(
        document: document,
        profile: base,
        overrides: [],
        resources: ExperimentResources()
      )
    else { return nil }
    return ParameterDigest.of(plan.profile.parameters)
  }
}
