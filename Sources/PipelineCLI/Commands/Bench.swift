import ArgumentParser
import Foundation
import NeuralEngine

/// `pipeline bench`: the engine's speed on the paper's workloads.
struct Bench: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Measure training, MC-dropout scoring (fast and naive), evaluation and GEMM peak.")

  @Flag(help: "Print one JSON object.")
  var json = false

  @Option(help: "MC-dropout passes T for the scoring workloads.")
  var mcSamples: Int = 100

  func run() throws {
    throw CLIError.invalidArgument("bench: not wired yet")
  }
}
