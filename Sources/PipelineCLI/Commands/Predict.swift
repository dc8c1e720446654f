import ArgumentParser
import Experiments
import Foundation
import HDF5Store
import NeuralEngine
import PipelineCore

/// `pipeline predict`: softmax probabilities and accuracy of a checkpoint on an MNIST split.
struct Predict: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Predict an MNIST split with a checkpoint (ours or one in the same PyTorch layout).",
    discussion: """
      The checkpoint needs conv1.weight [32,1,4,4], conv1.bias [32], conv2.weight [32,32,4,4],
      conv2.bias [32], fc1.weight [128,3872], fc1.bias [128], fc2.weight [10,128], fc2.bias [10]
      (float32, at the file's root). Writes `probabilities` [N,10], or [T,N,10] with --mc.
      """
  )

  /// The MNIST split to predict.
  enum Split: String, ExpressibleByArgument, CaseIterable {
    case train, test
  }

  @Option(help: "The HDF5 checkpoint to load.")
  var checkpoint: String

  @Option(help: "The split to predict: test or train.")
  var split: Split = .test

  @Option(
    name: .customLong("mc"),
    help: "Monte Carlo dropout passes T (default: deterministic, dropout off)."
  )
  var mcSamples: Int?

  @Option(help: "Seed of the MC-dropout masks.")
  var seed: UInt64 = 0

  @Option(help: "Write the probabilities to this HDF5 file.")
  var output: String?

  @OptionGroup var data: DataOptions

  func validate() throws {
    if let mcSamples, mcSamples < 1 {
      throw ValidationError("--mc must be at least 1, got \(mcSamples)")
    }
  }

  func run() throws {
    let model: BayesianCNN
    do {
      guard FileManager.default.fileExists(atPath: checkpoint) else {
        throw CLIError.invalidArgument("checkpoint \(checkpoint) does not exist")
      }
      let file = try HDF5File.open(checkpoint)
      defer { try? file.close() }
      model = try BayesianCNN(readingFrom: file)
    }
    let console = ConsoleObserver(quiet: data.quiet, showProgress: false, plan: nil)
    let runner = try Workspace.runner(options: data, jobs: 1, observer: console)
    let graph = try ExperimentPlan.dataGraph()
    _ = try runner.run(graph, recordAs: "fetch-mnist")
    let dataset = try MNISTTensors(
      contentsOf: try runner.verifiedArtifactURL(
        of: ExperimentPlan.preprocessID,
        artifact: "mnist",
        in: graph
      )
    )
    let (images, labels): (Tensor, [Int]) =
      switch split {
      case .test: dataset.testSet(first: 0)
      case .train:
        (dataset.trainingImages(at: Array(dataset.trainLabels.indices)), dataset.trainLabels)
      }
    let engine = try ComputeEngine()
    let probabilities: Tensor
    if let mcSamples {
      var generator = SeededGenerator(root: seed, path: ["predict"])
      probabilities = try engine.predictMonteCarlo(
        model,
        images: images,
        samples: mcSamples,
        generator: &generator
      )
    } else {
      probabilities = try engine.predictProbabilities(model, images: images)
    }
    let passes = mcSamples ?? 1
    let n = labels.count
    let accuracy = EvaluateStage.accuracy(
      probabilities.scalars, passes: passes, labels: labels, classes: 10)
    let correct = Int((accuracy * Double(n)).rounded())
    if let output {
      let file = try HDF5File.create(output)
      let shape = mcSamples == nil ? [n, 10] : [passes, n, 10]
      try file.write(probabilities.scalars, shape: shape, to: "probabilities")
      try file.setAttribute("checkpoint", .string(checkpoint))
      try file.setAttribute("split", .string(split.rawValue))
      try file.close()
    }
    let mode = mcSamples.map { "MC dropout, T = \($0)" } ?? "deterministic"
    print(
      String(
        format: "%@ accuracy (%@): %.4f (%d of %d)",
        split.rawValue,
        mode,
        Double(correct) / Double(n),
        correct,
        n
      )
    )
  }
}
