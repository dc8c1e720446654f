import Acquisition
import ArgumentParser
import Experiments
import Foundation
import NeuralEngine
import Reports

/// `pipeline bench`: the engine's speed on the paper's workloads.
struct Bench: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Measure training, MC-dropout scoring (fast and naive), evaluation and GEMM peak.",
    discussion: """
      Workloads (random data of MNIST shape, batch 128, all cores): train_1000 and train_20 \
      (50 epochs on 1000 / 20 images), score_mc_fast and score_mc_naive (a 2000-image pool, T \
      passes: shared convolutions vs T full passes), evaluate_10k (deterministic, 10,000 images), \
      gemm_reference (a large square sgemm through oneDNN: the machine's practical peak), \
      score_bald and score_batchbald (a round's whole scoring of the 2000-image pool: T passes \
      with independent masks and the BALD scores, or T consistent passes and the greedy \
      BatchBALD batch of acquire-count = 10 with the paper profile's \
      batchbald-configurations). Compare with ../shared/bench/torch_reference.py run in the \
      same sitting. The output names \
      the thread count (threads: OpenMP's, as OMP_NUM_THREADS sets it) and the CPU model (cpu), \
      the instruction set oneDNN runs (isa), the convolutions' implementations and the memory \
      layouts they chose (oneDNN's notation: acdb = nhwc, aBcd8b = nChw8c, aBcd16b = nChw16c). \
      --layout nhwc forces NHWC activations, to measure that path where oneDNN picks another.
      """
  )

  @Flag(help: "Print one JSON object keyed by workload.")
  var json = false

  @Option(help: "MC-dropout passes T for the scoring workloads.")
  var mcSamples: Int = 100

  @Option(help: "Run only these workloads (comma-separated names).")
  var only: String?

  @Option(
    help: ArgumentHelp(
      "Activation layout of the convolutions: any (oneDNN's choice) or nhwc (forced).",
      valueName: "layout"
    )
  )
  var layout: ActivationLayoutPreference = .chosenByOneDNN

  func validate() throws {
    guard mcSamples >= 1 else { throw ValidationError("--mc-samples must be at least 1") }
    let known = EngineBenchmark.workloadNames + Self.acquisitionWorkloads.sorted()
    for name in only?.split(separator: ",").map(String.init) ?? [] where !known.contains(name) {
      throw ValidationError(
        "--only '\(name)' is not a workload; the workloads are " + known.joined(separator: ", ")
      )
    }
  }

  func run() throws {
    let workloads = only.map { Set($0.split(separator: ",").map(String.init)) }
    let engineWorkloads = workloads?.subtracting(Self.acquisitionWorkloads)
    var results =
      engineWorkloads?.isEmpty == true
      ? []
      : try EngineBenchmark.run(
        mcSamples: mcSamples,
        workloads: engineWorkloads,
        activationLayout: layout
      )
    let engine = try ComputeEngine(activationLayout: layout)
    results += try acquisitionResults(workloads, engine: engine)
    let passes = try [("inference", false), ("training", true)].map { name, training in
      (name, try engine.convolutionLayouts(training: training))
    }
    if json {
      var object: [String: Any] = [
        "isa": ComputeEngine.instructionSet,
        "onednn": ComputeEngine.oneDNNVersion,
        "activation_layout": layout.rawValue,
        "kernel_lanes": ComputeEngine.kernelLanes,
        "threads": ComputeEngine.threadCount,
        "cpu": Reports.SystemInfo.current().cpuModel,
      ]
      object["convolutions"] = Dictionary(
        uniqueKeysWithValues: passes.map { name, stack in
          (name, ["conv1": stack.implementations[0], "conv2": stack.implementations[1]])
        }
      )
      object["layouts"] = Dictionary(
        uniqueKeysWithValues: passes.map { name, stack in
          (name, Dictionary(uniqueKeysWithValues: stack.layouts.map { ($0.role, $0.format) }))
        }
      )
      for result in results {
        object[result.name] = [
          "seconds": result.seconds, "items_per_second": result.itemsPerSecond,
          "gflops": result.gflops,
        ]
      }
      let data = try JSONSerialization.data(
        withJSONObject: object,
        options: [.prettyPrinted, .sortedKeys]
      )
      print(String(decoding: data, as: UTF8.self))
      return
    }
    print(
      "oneDNN \(ComputeEngine.oneDNNVersion), isa \(ComputeEngine.instructionSet), "
        + "kernel lanes \(ComputeEngine.kernelLanes), activations \(layout.rawValue), "
        + "T = \(mcSamples), \(ComputeEngine.threadCount) threads, "
        + Reports.SystemInfo.current().cpuModel
    )
    for (name, stack) in passes {
      print(
        "\(name): \(stack.implementations.joined(separator: " / ")); "
          + stack.layouts.map { "\($0.role) \($0.format)" }.joined(separator: ", ")
      )
    }
    print(
      "workload".padding(toLength: 16, withPad: " ", startingAt: 0)
        + "seconds".leftPadded(10) + "items/s".leftPadded(14) + "GFLOP/s".leftPadded(10)
    )
    for result in results {
      print(
        result.name.padding(toLength: 16, withPad: " ", startingAt: 0)
          + String(format: "%.3f", result.seconds).leftPadded(10)
          + String(format: "%.0f", result.itemsPerSecond).leftPadded(14)
          + String(format: "%.1f", result.gflops).leftPadded(10) + "  \(result.itemUnit)"
      )
    }
    let byName = Dictionary(uniqueKeysWithValues: results.map { ($0.name, $0) })
    if let fast = byName["score_mc_fast"], let naive = byName["score_mc_naive"] {
      print(
        String(format: "fast MC scoring is %.1fx faster than naive", naive.seconds / fast.seconds)
      )
    }
  }
}

extension Bench {
  static let acquisitionWorkloads: Set<String> = ["score_bald", "score_batchbald"]

  /// A round's scoring with BALD (independent masks) and with BatchBALD (consistent masks and
  /// the greedy batch), each once after a warm-up, on 2000 random images with a freshly
  /// initialised paper model: BatchBALD's cost does not depend on the values it scores.
  func acquisitionResults(
    _ workloads: Set<String>?,
    engine: ComputeEngine
  ) throws -> [BenchmarkResult] {
    let wanted = Self.acquisitionWorkloads.filter { workloads?.contains($0) ?? true }.sorted()
    guard !wanted.isEmpty else { return [] }
    var generator = SeededGenerator(root: 0, path: ["benchmark", "acquisition"])
    let model = BayesianCNN(generator: &generator)
    let poolSize = ExperimentParameters.paper.poolSubset
    let pixels = model.architecture.pixelCount
    let pool = Tensor(
      shape: [
        poolSize, model.architecture.inputChannels, model.architecture.imageSize,
        model.architecture.imageSize,
      ],
      scalars: (0..<(poolSize * pixels)).map { _ in generator.nextUniformFloat() }
    )
    var results: [BenchmarkResult] = []
    for name in wanted {
      let consistent = name == "score_batchbald"
      func score() throws {
        let values = try engine.predictMonteCarlo(
          model,
          images: pool,
          samples: mcSamples,
          generator: &generator,
          masks: consistent ? .consistent : .independent
        )
        let probabilities = MCProbabilities(
          passes: mcSamples,
          points: poolSize,
          classes: model.architecture.classCount,
          values: values.scalars
        )
        if consistent {
          _ = try BatchBALD.select(
            probabilities,
            count: ExperimentParameters.paper.acquireCount,
            configurationBudget: ExperimentParameters.paper.batchBALDConfigurations,
            using: &generator
          )
        } else {
          _ = AcquisitionFunction.bald.scores(probabilities)
        }
      }
      try score()  // warm-up: primitives and buffers
      let start = DispatchTime.now().uptimeNanoseconds
      try score()
      let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
      let items = Double(poolSize * mcSamples)
      results.append(
        BenchmarkResult(
          name: name,
          seconds: seconds,
          itemsPerSecond: items / seconds,
          itemUnit: "images·T (scores included)",
          gflops: 0
        )
      )
    }
    return results
  }
}

extension String {
  func leftPadded(_ width: Int) -> String {
    count >= width ? self : String(repeating: " ", count: width - count) + self
  }
}

extension ActivationLayoutPreference: ExpressibleByArgument {}
