import ArgumentParser
import Experiments
import Foundation
import PipelineCore

/// `pipeline replay TARGET --cell ID --round R`: re-execute one round and compare digests.
struct Replay: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Re-execute one round of a cell from its cached inputs and verify it bit for bit."
  )

  @Argument(help: "The target (see `pipeline list`).")
  var target: String

  @Option(help: "The cell, e.g. bald.bayesian.r0 (`pipeline status TARGET` lists them).")
  var cell: String

  @Option(help: "The round, from 0.")
  var round: Int

  @OptionGroup var profile: ProfileOptions
  @OptionGroup var data: DataOptions
  @OptionGroup var mirror: MirrorOptions

  func run() throws {
    let workspace = try Workspace(
      target: target,
      options: data,
      profile: profile,
      mirror: mirror,
      progress: false,
      use: .read
    )
    let plan = workspace.plan
    let cell = try workspace.cell(named: self.cell)
    let rounds = plan.profile.parameters.rounds
    guard (0...rounds).contains(round) else { throw CLIError.roundOutOfRange(round, max: rounds) }
    // Every stage of the round, in the order it runs (train, with every ensemble member first),
    // and its calibrate stage where the profile measures this round and it has been computed
    // (calibrations are added by later runs; a round without one replays the rest).
    let statuses = try workspace.runner.status(plan.graph)
    let calibration = ExperimentPlan.calibrationGroup(cell)
    let stages = plan.graph.nodes.filter { node in
      guard node.round == round else { return false }
      if node.group == cell.description { return true }
      return node.group == calibration && statuses[node.id]?.isCached == true
    }.map(\.id)
    let report = try workspace.runner.replay(plan.graph, stages: stages)
    var identical = true
    for stage in report.stages {
      for artifact in stage.artifacts {
        let pruned = artifact.cachedWasPruned ? " (recorded digest; its bytes were pruned)" : ""
        if artifact.isIdentical {
          print(
            "\(stage.id) \(artifact.name): verified (bit-identical, sha256 "
              + "\(artifact.cachedSHA256.prefix(16)))\(pruned)"
          )
        } else {
          let datasets = artifact.differingDatasets.map { name in
            artifact.largestDifferences[name].map {
              "\(name) (largest absolute difference \(String(format: "%.3g", $0)))"
            } ?? name
          }
          print(
            "\(stage.id) \(artifact.name): DIFFERS\(pruned): cached sha256 "
              + "\(artifact.cachedSHA256.prefix(16)), replayed \(artifact.replayedSHA256.prefix(16)); "
              + "differing datasets: " + datasets.joined(separator: ", ")
          )
        }
        identical = identical && artifact.isIdentical
      }
      if !stage.isIdentical {
        let keys = Set(stage.recordedEnvironment.keys).union(stage.currentEnvironment.keys).sorted()
        for key in keys {
          let recorded = stage.recordedEnvironment[key] ?? "(not recorded)"
          let current = stage.currentEnvironment[key] ?? "?"
          print(
            "  \(key): recorded \(recorded), this machine \(current)"
              + (recorded == current ? "" : "  <- differs")
          )
        }
      }
    }
    if identical {
      print("verified (bit-identical): round \(round) of \(cell) reproduces bit for bit")
    } else {
      throw CLIError.replayFailed(
        "replay of round \(round) of \(cell) differs from the cache (see above)"
      )
    }
  }
}
