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
      """
  )

  @Argument(help: "The target (see `pipeline list`).")
  var target: String

  @OptionGroup var profile: ProfileOptions
  @OptionGroup var data: DataOptions

  @Option(
    help: ArgumentHelp(
      "Export only the cells matching this shell-style glob, e.g. '*.r0'.",
      valueName: "glob"
    )
  )
  var cells: String?

  @Option(help: "The folder that receives one <cell>.h5 per cell (created if needed).")
  var output: String

  @Option(help: "Also carry these heavy artifacts (comma-separated): models, scores.")
  var include: String?

  func run() throws {
    let included = try include.map { try HeavyArtifacts.parse($0, option: "--include") } ?? []
    let workspace = try Workspace(
      target: target,
      options: data,
      profile: profile,
      cells: cells,
      progress: false
    )
    let plan = workspace.computePlan
    let store = workspace.runner.store
    let heavy = Set(HeavyArtifacts.allCases.map(\.artifact))
    let shared = [ExperimentPlan.downloadID, ExperimentPlan.preprocessID]
    let folder = URL(fileURLWithPath: output)
    var written = 0
    try workspace.runner.sharingCache {
      let statuses = try workspace.runner.status(plan.graph)
      for cell in plan.cells {
        // A derived dataset (Repeated MNIST) travels like MNIST: as a digest.
        let data = cell.dataset == .mnist ? shared : shared + [ExperimentPlan.dataID(cell.dataset)]
        var ids =
          data + [ExperimentPlan.splitID(repetition: cell.repetition, dataset: cell.dataset)]
        // The cell's stages and its calibrate stages (a group of their own).
        let groups = [cell.description, ExperimentPlan.calibrationGroup(cell)]
        ids += plan.graph.nodes.filter { groups.contains($0.group ?? "") }.map(\.id)
        var entries: [ResultBundle.Entry] = []
        for id in ids {
          guard case .cached(let key)? = statuses[id] else { continue }
          let isData = data.contains(id)
          entries.append(
            try store.bundleEntry(key: key) { name in
              !isData && (!heavy.contains(name) || included.contains(name))
            }
          )
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
        print(
          "\(url.path): \(entries.count) entries, \(evaluated) rounds evaluated, \(bytes) bytes"
        )
        written += 1
      }
    }
    if !data.quiet { printError("exported \(written) cell(s) to \(folder.path)") }
  }
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

  @Option(help: "Refuse bundles of another target.")
  var target: String?

  @Option(help: "Refuse bundles of another profile.")
  var profile: String?

  @OptionGroup var data: DataOptions

  func run() throws {
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
  }
}
