import ArgumentParser
import Experiments
import Foundation
import PipelineCore

/// `pipeline fetch mnist`: download (or copy from a mirror), verify and preprocess MNIST.
struct Fetch: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Download, verify and preprocess a data set; prints the path of its HDF5 file."
  )

  /// The data sets `fetch` knows.
  enum DataSet: String, ExpressibleByArgument, CaseIterable {
    case mnist
  }

  @Argument(help: "The data set to fetch (mnist).")
  var dataSet: DataSet

  @OptionGroup var data: DataOptions
  @OptionGroup var mirror: MirrorOptions

  func run() throws {
    let console = ConsoleObserver(quiet: data.quiet, showProgress: false, plan: nil)
    let runner = try Workspace.runner(options: data, mirror: mirror, jobs: 1, observer: console)
    let graph = try ExperimentPlan.dataGraph()
    _ = try runner.run(
      graph,
      recordAs: "fetch-mnist",
      labels: ["origin": "fetch", "command": "pipeline fetch mnist"]
    )
    print(
      try runner.verifiedArtifactURL(of: ExperimentPlan.preprocessID, artifact: "mnist", in: graph)
        .path
    )
  }
}
