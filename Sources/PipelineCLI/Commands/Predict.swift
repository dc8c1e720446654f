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
      The checkpoint needs conv1.weight [32,1,4,4], conv1.bias [32], conv2.weight [32,32,4,4], \
      conv2.bias [32], fc1.weight [128,3872], fc1.bias [128], fc2.weight [10,128], fc2.bias [10] \
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

  @Option(
    name: .customLong("mc-convergence"),
    help: ArgumentHelp(
      "Also report the expected MC accuracy at fewer passes, e.g. 10,20,50,100,200.",
      discussion: """
        Each value t splits the --mc passes into disjoint groups of t and averages the groups' \
        accuracies (an estimate of the accuracy with t passes), printed next to the accuracy of \
        all passes. Used to choose the test-time T: see the README.
        """
    )
  )
  var convergence: String?

  @Option(help: "Seed of the MC-dropout masks.")
  var seed: UInt64 = 0

  @Option(help: "Write the probabilities to this HDF5 file.")
  var output: String?

  @OptionGroup var data: DataOptions
  @OptionGroup var mirror: MirrorOptions

  func validate() throws {
    if let output, Self.resolved(output) == Self.resolved(checkpoint) {
      throw ValidationError(
        "--output \(output) is the checkpoint itself; writing the probabilities there would "
          + "destroy the weights. Choose another file, e.g. --output probabilities.h5"
      )
    }
    if let mcSamples, mcSamples < 1 {
      throw ValidationError("--mc must be at least 1, got \(mcSamples)")
    }
    if convergence != nil {
      let values = try convergencePasses()
      guard let mcSamples else {
        throw ValidationError("--mc-convergence needs --mc T, the reference number of passes")
      }
      if let bad = values.first(where: { $0 < 1 || $0 > mcSamples }) {
        throw ValidationError(
          "--mc-convergence value \(bad) must lie in 1...\(mcSamples) (the --mc passes)"
        )
      }
    }
  }

  /// The path with symbolic links and `.`/`..` resolved, to compare two spellings of a file.
  static func resolved(_ path: String) -> String {
    URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
  }

  func convergencePasses() throws -> [Int] {
    guard let convergence else { return [] }
    let items = convergence.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
    return try items.map { item in
      guard let value = Int(item) else {
        throw ValidationError(
          "--mc-convergence expects whole numbers separated by commas, e.g. 10,20,50; got '\(item)'"
        )
      }
      return value
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
      model = try BayesianCNN(readingFrom: file) { printError("note: \($0)") }
    }
    let console = ConsoleObserver(quiet: data.quiet, showProgress: false, plan: nil)
    let runner = try Workspace.runner(options: data, mirror: mirror, jobs: 1, observer: console)
    let graph = try ExperimentPlan.dataGraph()
    _ = try runner.run(
      graph,
      recordAs: "fetch-mnist",
      labels: ["origin": "fetch", "command": "pipeline fetch mnist"]
    )
    let dataset = try MNISTTensors(
      contentsOf: try runner.verifiedArtifactURL(
        of: ExperimentPlan.preprocessID,
        artifact: "mnist",
        in: graph
      )
    )
    let (images, labels): (Tensor, [Int]) =
      switch split {
      case .test: dataset.testSet(stratifiedSubset: 0, seed: 0)
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
      probabilities.scalars,
      passes: passes,
      labels: labels,
      classes: model.architecture.classCount
    )
    let correct = Int((accuracy * Double(n)).rounded())
    if let output {
      // Written under a temporary name next to the target and renamed, so a failed write
      // leaves any earlier file of that name intact.
      let target = URL(fileURLWithPath: output)
      let temporary = target.deletingLastPathComponent()
        .appendingPathComponent(".\(target.lastPathComponent).\(getpid()).tmp")
      do {
        let file = try HDF5File.create(temporary.path)
        let classes = model.architecture.classCount
        let shape = mcSamples == nil ? [n, classes] : [passes, n, classes]
        try file.write(probabilities.scalars, shape: shape, to: "probabilities")
        try file.setAttribute("checkpoint", .string(checkpoint))
        try file.setAttribute("split", .string(split.rawValue))
        try file.close()
        guard rename(temporary.path, target.path) == 0 else {
          throw CLIError.invalidArgument(
            "cannot write \(output): \(String(cString: strerror(errno))); check the folder"
          )
        }
      } catch {
        try? FileManager.default.removeItem(at: temporary)
        throw error
      }
    }
    for t in try convergencePasses() {
      let groups = passes / t
      var sum = 0.0
      for group in 0..<groups {
        sum += EvaluateStage.accuracy(
          probabilities.scalars,
          passes: passes,
          using: (group * t)..<((group + 1) * t),
          labels: labels,
          classes: model.architecture.classCount
        )
      }
      let mean = sum / Double(groups)
      print(
        String(
          format: "%@ accuracy (MC dropout, T = %d, mean of %d disjoint groups): %.4f (%+.3f pp"
            + " against T = %d)",
          split.rawValue,
          t,
          groups,
          mean,
          100 * (mean - accuracy),
          passes
        )
      )
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
