import ArgumentParser
import Experiments
import Foundation
import PipelineCore
import Reports

/// `pipeline inspect TARGET --cell ID --round R`: what one round acquired and why.
struct Inspect: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Render a page of what one round of a cell acquired and why.",
    discussion: """
      Writes Reports/inspect/<report>-<cell>-r<round>.{md,html}, named like the target's \
      report (fig2, fig2-quick): the acquired images with their labels, scores and ranks; for them and a few of the lowest-scored images, the \
      deterministic softmax beside the predictive mean and spread, the predictive and \
      expected entropies and BALD; the histogram of the subset's scores; the labelled set by \
      class. Reads the cached round and computes only the inspect stage; a round not computed \
      yet is refused, with the `reproduce --cells` command that computes it.
      """
  )

  @Argument(help: "The target (see `pipeline list`).")
  var target: String

  @Option(help: "The cell, e.g. bald.bayesian.r0 (`pipeline status TARGET` lists them).")
  var cell: String

  @Option(help: "The round, from 0 (the last round acquires nothing).")
  var round: Int

  @OptionGroup var profile: ProfileOptions
  @OptionGroup var data: DataOptions
  @OptionGroup var reports: ReportOptions
  @OptionGroup var mirror: MirrorOptions

  func run() throws {
    let workspace = try Workspace(
      target: target,
      options: data,
      profile: profile,
      mirror: mirror,
      progress: false,
      use: .preview
    )
    let plan = workspace.plan
    let cell = try workspace.cell(named: self.cell)
    guard cell.trainsNetwork else {
      throw ExperimentError.infeasible(
        "\(cell) has no network to inspect: the harmonic function's round is its field; "
          + "inspect a CNN cell of the target instead"
      )
    }
    let rounds = plan.profile.parameters.rounds
    guard (0..<rounds).contains(round) else {
      throw CLIError.roundOutOfRange(round, max: rounds - 1)
    }
    let node = RoundInspection.node(
      plan: plan,
      cell: cell,
      round: round,
      resources: ExperimentResources()
    )
    // The inspect stage and everything upstream of it (cached stages are reused).
    var graph = plan.graph
    try graph.add(node)
    var included: Set<StageID> = []
    var pending = [node.id]
    while let next = pending.popLast() {
      guard included.insert(next).inserted, let upstream = graph[next] else { continue }
      pending += upstream.upstreamIDs
    }
    let subgraph = try PipelineGraph(graph.nodes.filter { included.contains($0.id) })
    // Only the inspect stage may be computed here: a round not computed yet would silently
    // start the cell's whole loop up to it (hours with the paper profile).
    let statuses = try workspace.runner.status(subgraph)
    let missing = subgraph.nodes.map(\.id).filter { id in
      id != node.id && statuses[id]?.isCached != true
    }
    if !missing.isEmpty {
      let evaluated = plan.roundsEvaluated(cell, statuses: statuses)
      throw CLIError.invalidArgument(
        "round \(round) of \(cell) has not been computed yet: the cell has \(evaluated) of "
          + "\(rounds + 1) rounds evaluated, and \(missing.count) stages up to this one are "
          + "missing (e.g. \(missing.sorted { $0.description < $1.description }[0])). inspect "
          + "shows computed rounds only; compute the cell first, then inspect again:\n  "
          + SuggestedCommand.tool(
            ["reproduce", plan.target, "--profile", profile.profile]
              + profile.overrides.flatMap { ["--set", $0] }
              + ["--cells", cell.description, "--data-dir", data.dataDirectory.path]
          )
      )
    }
    let command = SuggestedCommand.again()
    try workspace.runner.run(
      subgraph,
      recordAs: "inspect-\(workspace.reportName)-\(cell)-r\(round)",
      labels: [
        "origin": "inspect", "command": command, "target": plan.target,
        "profile": plan.profile.name, "cell": cell.description,
      ]
    )
    guard case .cached(let key)? = try workspace.runner.status(subgraph)[node.id] else {
      throw CLIError.invalidArgument("the inspection of \(cell) round \(round) was not committed")
    }
    let page = try RoundInspection.page(
      plan: plan,
      cell: cell,
      round: round,
      inspection: try workspace.runner.store.verifiedArtifactURL(key: key, name: "inspection"),
      command: command
    )
    let (markdown, html) = InspectionPage.render(page)
    let folder = reports.reportsDirectory.appendingPathComponent("inspect")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    // Named like the reports: the target alone for the paper profile, else with the profile.
    let name = "\(workspace.reportName)-\(cell)-r\(round)"
    for (ext, text) in [("md", markdown), ("html", html)] {
      let url = folder.appendingPathComponent("\(name).\(ext)")
      try text.write(to: url, atomically: true, encoding: .utf8)
      print(url.path)
    }
  }
}
