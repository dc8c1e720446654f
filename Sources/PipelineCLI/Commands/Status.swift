import ArgumentParser
import Experiments
import Foundation
import PipelineCore

/// `pipeline status TARGET`: what a run would do, per cell, and why.
struct Status: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Show, per cell, the rounds evaluated, what will run or waits on upstream, and why."
  )

  @Argument(help: "The target (see `pipeline list`).")
  var target: String

  @OptionGroup var profile: ProfileOptions
  @OptionGroup var data: DataOptions

  func run() throws {
    let workspace = try Workspace(
      target: target,
      options: data,
      profile: profile,
      progress: false,
      use: .preview
    )
    let plan = workspace.plan
    // Changes are shown against the last run of this same target, profile and overrides.
    let statuses = try workspace.runner.status(plan.graph, comparingWith: workspace.recordName)
    let p = plan.profile
    print("\(target) — profile \(p.name): \(p.summary)")
    if !p.overrides.isEmpty {
      print("overrides: " + p.overrides.map(\.description).joined(separator: " "))
    }
    print(
      "parameters: "
        + ProfileOverride.specs.map { "\($0.key)=\($0.value(in: p.parameters))" }.joined(
          separator: " "
        )
    )
    if !FileManager.default.fileExists(atPath: data.dataDirectory.path) {
      print(
        "data directory: \(data.dataDirectory.path) does not exist yet, so nothing is cached; "
          + "`reproduce` or `import` creates it"
      )
    }
    print("")
    var groups: [String: [StageNode]] = [:]
    var order: [String] = []
    for node in plan.graph.nodes {
      let group = node.group ?? "other"
      if groups[group] == nil { order.append(group) }
      groups[group, default: []].append(node)
    }
    let cells = Dictionary(uniqueKeysWithValues: plan.cells.map { ($0.description, $0) })
    var totals = (cached: 0, willRun: 0, waiting: 0)
    var changes: [KeyChange: (example: StageID, count: Int)] = [:]
    let width = order.map(\.count).max() ?? 10
    for group in order {
      var cached = 0
      var willRun: [StageNode] = []
      var waiting: [StageNode] = []
      for node in groups[group]! {
        switch statuses[node.id] {
        case .cached?: cached += 1
        case .willRun(_, let changed)?:
          willRun.append(node)
          for change in changed { changes[change, default: (node.id, 0)].count += 1 }
        case .waitingOnUpstream(_, let changed)?:
          waiting.append(node)
          for change in changed { changes[change, default: (node.id, 0)].count += 1 }
        case nil: break
        }
      }
      totals.cached += cached
      totals.willRun += willRun.count
      totals.waiting += waiting.count
      let rounds = Set(groups[group]!.compactMap(\.round)).count
      var line = group.padding(toLength: width, withPad: " ", startingAt: 0) + "  "
      if willRun.isEmpty && waiting.isEmpty {
        line += "cached" + (rounds > 0 ? " (all \(rounds) rounds)" : "")
      } else {
        if let cell = cells[group] {
          // A cell's progress in the report's unit: its rounds evaluated.
          let total = plan.profile.parameters.rounds + 1
          line += "\(plan.roundsEvaluated(cell, statuses: statuses))/\(total) rounds evaluated; "
        } else {
          let doneRounds = Set(groups[group]!.compactMap(\.round)).subtracting(
            (willRun + waiting).compactMap(\.round)
          ).count
          line += rounds > 0 ? "\(doneRounds)/\(rounds) rounds cached; " : "\(cached) cached; "
        }
        if let next = willRun.first {
          line +=
            "will run \(next.id.rawValue.split(separator: "/").suffix(2).joined(separator: "/"))"
          if willRun.count > 1 { line += " (+\(willRun.count - 1) more)" }
          if !waiting.isEmpty { line += "; " }
        }
        if !waiting.isEmpty { line += "\(waiting.count) stages waiting on upstream" }
      }
      print(line)
    }
    print("")
    print(
      "stages: \(totals.cached) cached, \(totals.willRun) will run, "
        + "\(totals.waiting) waiting on upstream (of \(plan.graph.nodes.count))"
    )
    for line in SlurmStatus.lines(workspace) { print(line) }
    print(StatusComparison.describe(workspace: workspace, keyChanges: changes), terminator: "")
    if totals.willRun + totals.waiting == 0 { print("nothing to do: the target is complete") }
  }
}

/// What `status` says changed, in the user's terms: the `--set` parameters that differ from the
/// last run of the same command (or, when this protocol never ran, from the newest run of the
/// same target), then the changes of code or inputs that no parameter explains.
enum StatusComparison {
  static func describe(
    workspace: Workspace,
    keyChanges: [KeyChange: (example: StageID, count: Int)]
  ) -> String {
    let records = workspace.runner.recordedRuns()
    let current = workspace.recordParameters
    func parameterChanges(from old: [String: String]) -> [String] {
      ProfileOverride.specs.map(\.key).compactMap { key in
        guard let before = old[key], let now = current[key], before != now else { return nil }
        return "\(key): \(before) -> \(now)"
      }
    }
    var text = ""
    if let same = records.first(where: { $0.name == workspace.recordName }) {
      let parameters = same.parameters.isEmpty ? [] : parameterChanges(from: same.parameters)
      // Parameters explain the parameter and seed components of every stage key.
      let explained: (KeyChange) -> Bool = {
        !parameters.isEmpty && ($0.component == "seed" || $0.component.hasPrefix("parameters."))
      }
      let rest = keyChanges.filter { !explained($0.key) }
      guard !parameters.isEmpty || !rest.isEmpty else { return "" }
      text += "\nchanged since the last run of this command (\(RunGrouping.describe(same))):\n"
      for line in parameters { text += "  \(line)\n" }
      for line in describe(rest) { text += "  \(line)\n" }
      return text
    }
    // Another profile is another protocol altogether: only the same profile is compared.
    let nearest = records.first {
      $0.labels["target"] == workspace.plan.target
        && $0.labels["profile"] == workspace.plan.profile.name
        && $0.labels["origin"] == "computed" && !$0.parameters.isEmpty
    }
    guard let nearest else { return "" }
    let parameters = parameterChanges(from: nearest.parameters)
    guard !parameters.isEmpty else {
      // The same protocol, recorded by a run of other cells (`--cells`).
      return "\nno run of exactly this command yet; the newest run of "
        + "\(workspace.plan.target) with profile \(workspace.plan.profile.name) has the same "
        + "parameters (\(RunGrouping.describe(nearest)))\n"
    }
    text +=
      "\nno earlier run with these parameters; compared with the newest run of "
      + "\(workspace.plan.target) with profile \(workspace.plan.profile.name) "
      + "(\(RunGrouping.describe(nearest))):\n"
    for line in parameters { text += "  \(line)\n" }
    return text
  }

  /// Key changes that no parameter explains, grouped and in words.
  static func describe(_ changes: [KeyChange: (example: StageID, count: Int)]) -> [String] {
    var lines: [String: Int] = [:]
    var examples: [String: StageID] = [:]
    for (change, info) in changes {
      let line: String
      switch change.component {
      case "version":
        line =
          "code of the stage changed (logic version \(change.old ?? "-") -> \(change.new ?? "-"))"
      case "seed":
        line = "stage seeds are derived differently (code changed)"
      case "schema":
        line = "cache-key rules changed (schema \(change.old ?? "-") -> \(change.new ?? "-"))"
      case let component where component.hasPrefix("inputs."):
        line =
          "input \"\(component.dropFirst("inputs.".count))\" has other content (an upstream result or file changed)"
      case let component where component.hasPrefix("parameters."):
        line =
          "stage parameter \(component.dropFirst("parameters.".count)): "
          + "\(plain(change.old)) -> \(plain(change.new))"
      default:
        line = "\(change.component): \(plain(change.old)) -> \(plain(change.new))"
      }
      lines[line, default: 0] += info.count
      if examples[line] == nil || info.example.rawValue < examples[line]!.rawValue {
        examples[line] = info.example
      }
    }
    return lines.sorted { $0.key < $1.key }.map { line, count in
      "\(line)  [\(count) stage\(count == 1 ? "" : "s"), e.g. \(examples[line]!)]"
    }
  }

  /// A canonical value as a person writes it: `f64:3f50624dd2f1a9fc` becomes `0.001`.
  static func plain(_ canonical: String?) -> String {
    guard let canonical else { return "(absent)" }
    let readable = CanonicalJSONEncoder.readable(canonical)
    return readable.replacingOccurrences(
      of: #"f64:[0-9a-f]{16} \(([^)]*)\)"#,
      with: "$1",
      options: .regularExpression
    )
  }
}
