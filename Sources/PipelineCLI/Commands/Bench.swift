import ArgumentParser
import Foundation
import NeuralEngine

/// `pipeline bench`: the engine's speed on the paper's workloads.
struct Bench: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Measure training, MC-dropout scoring (fast and naive), evaluation and GEMM peak.",
    discussion: """
      Workloads (random data of MNIST shape, batch 128, all cores): train_1000 and train_20 \
      (50 epochs on 1000 / 20 images), score_mc_fast and score_mc_naive (a 2000-image pool, T \
      passes: shared convolutions vs T full passes), evaluate_10k (deterministic, 10,000 images), \
      gemm_reference (a large square sgemm through oneDNN: the machine's practical peak). \
      Compare with ../shared/bench/torch_reference.py run in the same sitting. The output names \
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
  }

  func run() throws {
    let workloads = only.map { Set($0.split(separator: ",").map(String.init)) }
    let results = try EngineBenchmark.run(
      mcSamples: mcSamples,
      workloads: workloads,
      activationLayout: layout
    )
    let engine = try ComputeEngine(activationLayout: layout)
    let passes = try [("inference", false), ("training", true)].map { name, training in
      (name, try engine.convolutionLayouts(training: training))
    }
    if json {
      var object: [String: Any] = [
        "isa": ComputeEngine.instructionSet,
        "onednn": ComputeEngine.oneDNNVersion,
        "activation_layout": layout.rawValue,
        "kernel_lanes": ComputeEngine.kernelLanes,
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
        + "T = \(mcSamples)"
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

extension String {
  func leftPadded(_ width: Int) -> String {
    count >= width ? self : String(repeating: " ", count: width - count) + self
  }
}

extension ActivationLayoutPreference: ExpressibleByArgument {}
