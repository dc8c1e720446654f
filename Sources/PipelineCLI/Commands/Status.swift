import ArgumentParser
import Experiments
import Foundation
import PipelineCore

/// `pipeline status TARGET`: what a run would do, per cell, and why.
struct Status: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Show, per cell, which rounds are cached, will run, or wait on upstream, and why."
  )

  @Argument(help: "The target (see `pipeline list`).")
  var target: String

  @OptionGroup var profile: ProfileOptions
  @OptionGroup var data: DataOptions

  func run() throws {
    let workspace = try Workspace(target: target, options: data, profile: profile, progress: false)
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
    print("")
    var groups: [String: [StageNode]] = [:]
    var order: [String] = []
    for node in plan.graph.nodes {
      let group = node.group ?? "other"
      if groups[group] == nil { order.append(group) }
      groups[group, default: []].append(node)
    }
    var totals = (cached: 0, willRun: 0, waiting: 0)
    var changes: [String: (example: StageID, count: Int)] = [:]
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
          for change in changed { changes["\(change)", default: (node.id, 0)].count += 1 }
        case .waitingOnUpstream(_, let changed)?:
          waiting.append(node)
          for change in changed { changes["\(change)", default: (node.id, 0)].count += 1 }
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
        let doneRounds = Set(groups[group]!.compactMap(\.round)).subtracting(
          (willRun + waiting).compactMap(\.round)
        ).count
        line += rounds > 0 ? "\(doneRounds)/\(rounds) rounds cached; " : "\(cached) cached; "
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
    if !changes.isEmpty {
      print("\nchanged since the last run (component: old -> new):")
      for (change, info) in changes.sorted(by: { $0.key < $1.key }) {
        print(
          "  \(change)  [\(info.count) stage\(info.count == 1 ? "" : "s"), e.g. \(info.example)]"
        )
      }
    }
    if totals.willRun + totals.waiting == 0 { print("nothing to do: the target is complete") }
  }
}
