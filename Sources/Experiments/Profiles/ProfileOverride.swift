import Acquisition
import MNIST
import NeuralEngine

/// One `--set key=value` override of an ``ExperimentParameters`` value, validated on parsing.
public struct ProfileOverride: Sendable, Hashable, CustomStringConvertible {
  /// The parameter's command-line key, e.g. `rounds`.
  public let key: String
  /// The value in its canonical spelling (`30`, `2.5`, `keras-0.3`, `0.5,1,2.5`).
  public let value: String

  /// Parses `key=value`, checking the key is known and the value valid for it.
  public init(parsing text: String) throws(ExperimentError) {
    let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
    guard parts.count == 2, !parts[0].isEmpty else { throw .malformedOverride(text) }
    let key = parts[0].trimmingWhitespace()
    let rawValue = parts[1].trimmingWhitespace()
    guard let spec = Self.spec(key) else {
      throw .unknownParameter(key, known: Self.specs.map(\.key))
    }
    var scratch = ExperimentParameters.paper
    try spec.set(&scratch, rawValue)
    self.key = key
    self.value = spec.get(scratch)
  }

  /// `key=value`, in canonical spelling.
  public var description: String { "\(key)=\(value)" }

  func apply(to parameters: inout ExperimentParameters) {
    // Validated on parsing, and the canonical spelling parses again to the same value.
    try! Self.spec(key)!.set(&parameters, value)
  }

  static func spec(_ key: String) -> Spec? { specs.first { $0.key == key } }

  /// Every overridable parameter: key, meaning and accepted values.
  public static let specs: [Spec] = [
    .int("repetitions", \.repetitions, 1...100, "independent repetitions per configuration"),
    .int("rounds", \.rounds, 0...5000, "acquisition rounds"),
    .int("acquire-count", \.acquireCount, 1...1000, "images acquired per round"),
    .int("initial-per-class", \.initialPerClass, 1...100, "initial labelled images per class"),
    .int("validation", \.validation, 0...20000, "validation images held out of the pool"),
    .int(
      "pool-subset",
      \.poolSubset,
      0...Double(DatasetFacts.mnist.trainingCount),
      "pool points scored per round (0 = all)"
    ),
    .int("mc-samples", \.mcSamples, 1...1000, "MC-dropout passes for scoring"),
    .int("test-mc-samples", \.testMCSamples, 1...1000, "MC-dropout passes for test accuracy"),
    .int(
      "test-subset",
      \.testSubset,
      0...Double(DatasetFacts.mnist.testCount),
      "test images evaluated, a seeded class-stratified subset (0 = all 10,000)"
    ),
    .int("epochs", \.epochs, 1...10000, "training epochs per round"),
    .int(
      "batch-size",
      \.batchSize,
      1...Double(DatasetFacts.mnist.trainingCount),
      "minibatch size"
    ),
    .choice("last-batch", \.lastBatch, "the last, partial batch of an epoch: keep or drop"),
    .choice(
      "initialisation",
      \.initialisation,
      "weight initialisation: keras-0.3 (the authors' Keras) or glorot (Keras >= 1, PyTorch)"
    ),
    .double("weight-decay", \.weightDecay, 0...1e6, "c in lambda = c / N on the dense-128 weights"),
    .grid(
      "weight-decay-grid",
      \.weightDecayGrid,
      "c values tuned per round on the validation set, e.g. 0.5,1,2.5,3.5,5,10 (none = fixed c)"
    ),
    .choice(
      "deterministic-var-ratios",
      \.deterministicVarRatios,
      "Variation Ratios of a deterministic model: least-confidence (1 - max p) or mode-count"
    ),
    .double("learning-rate", \.learningRate, 1e-9...10, "Adam learning rate"),
    .int("seed", \.seed, 0...Double(Int32.max), "root seed"),
    .int(
      "ensemble-size",
      \.ensembleSize,
      1...100,
      "members M of a deep ensemble (source ensemble)"
    ),
    .parsed(
      "calibration",
      \.calibration,
      accepted: "on, off, every-N",
      "which rounds measure calibration (NLL, Brier, ECE): on (every round), off, or every-N "
        + "(rounds 0, N, 2N, ... and the last); each repeats the test passes"
    ),
    .choice(
      "ensemble-dropout",
      \.ensembleDropout,
      "how ensemble members predict: off (one pass each, S = M) or mc-dropout (T each, S = M x T)"
    ),
    Spec(
      key: "dataset",
      help: "the dataset: mnist, digits:2,8 (those digits only, relabelled 0..k-1) or "
        + "repeated:<copies>x<noise std> (Repeated MNIST, e.g. repeated:3x0.1)",
      accepted: "mnist, digits:d1,d2,... (two or more distinct digits 0-9), "
        + "repeated:<copies>x<noise std>",
      set: { (parameters, text) throws(ExperimentError) in
        parameters.dataset = try DatasetVariant(parsing: text)
      },
      get: { $0.dataset.description }
    ),
    .int(
      "pool-size",
      \.poolSize,
      0...Double(DatasetFacts.mnist.trainingCount),
      "pool images kept, a seeded subset of those left after validation and initial (0 = all)"
    ),
    .double(
      "rbf-sigma",
      \.rbfSigma,
      1e-3...1e3,
      "width sigma of the harmonic function's RBF weights exp(-|x_i - x_j|^2 / sigma^2)"
    ),
    .choice(
      "harmonic-prediction",
      \.harmonicPrediction,
      "how the harmonic function labels test images: threshold (f > 0.5) or class-mass"
    ),
    .choice(
      "mc-dropout-masks",
      \.mcDropoutMasks,
      "MC-dropout masks when scoring: independent (per image and pass) or consistent (per pass)"
    ),
    .int(
      "batchbald-configurations",
      \.batchBALDConfigurations,
      1...1_000_000,
      "BatchBALD: label configurations evaluated exactly, or sampled beyond (default 1000)"
    ),
  ]

  /// The description of one overridable parameter.
  public struct Spec: Sendable {
    /// The command-line key.
    public let key: String
    /// What the parameter means.
    public let help: String
    /// The accepted values, as shown in help and errors (`1...100`, `keep, drop`).
    public let accepted: String
    let set: @Sendable (inout ExperimentParameters, String) throws(ExperimentError) -> Void
    let get: @Sendable (ExperimentParameters) -> String

    /// The parameter's value in `parameters`, formatted for status and reports.
    public func value(in parameters: ExperimentParameters) -> String { get(parameters) }

    static func int(
      _ key: String,
      _ path: any WritableKeyPath<ExperimentParameters, Int> & Sendable,
      _ range: ClosedRange<Double>,
      _ help: String
    ) -> Spec {
      let accepted = "\(Int(range.lowerBound))...\(Int(range.upperBound))"
      return Spec(
        key: key,
        help: help,
        accepted: accepted,
        set: { (parameters, text) throws(ExperimentError) in
          guard let value = Double(text), value.isFinite, value.rounded() == value else {
            throw .invalidParameterValue(key: key, value: text, expected: "an integer")
          }
          guard range.contains(value) else {
            throw .parameterOutOfRange(key: key, value: text, range: accepted)
          }
          parameters[keyPath: path] = Int(value)
        },
        get: { String($0[keyPath: path]) }
      )
    }

    static func double(
      _ key: String,
      _ path: any WritableKeyPath<ExperimentParameters, Double> & Sendable,
      _ range: ClosedRange<Double>,
      _ help: String
    ) -> Spec {
      let accepted = "\(range.lowerBound)...\(range.upperBound)"
      return Spec(
        key: key,
        help: help,
        accepted: accepted,
        set: { (parameters, text) throws(ExperimentError) in
          guard let value = Double(text), value.isFinite else {
            throw .invalidParameterValue(key: key, value: text, expected: "a number")
          }
          guard range.contains(value) else {
            throw .parameterOutOfRange(key: key, value: text, range: accepted)
          }
          parameters[keyPath: path] = value
        },
        get: { String($0[keyPath: path]) }
      )
    }

    static func choice<Value: RawRepresentable & CaseIterable & Sendable>(
      _ key: String,
      _ path: any WritableKeyPath<ExperimentParameters, Value> & Sendable,
      _ help: String
    ) -> Spec where Value.RawValue == String {
      let names = Value.allCases.map(\.rawValue)
      return Spec(
        key: key,
        help: help,
        accepted: names.joined(separator: ", "),
        set: { (parameters, text) throws(ExperimentError) in
          guard let value = Value(rawValue: text) else {
            throw .invalidParameterValue(
              key: key,
              value: text,
              expected: "one of " + names.map { "'\($0)'" }.joined(separator: ", ")
            )
          }
          parameters[keyPath: path] = value
        },
        get: { $0[keyPath: path].rawValue }
      )
    }

    /// A value with a spelling of its own (``LosslessStringConvertible``), e.g. `every-10`.
    static func parsed<Value: LosslessStringConvertible & Sendable>(
      _ key: String,
      _ path: any WritableKeyPath<ExperimentParameters, Value> & Sendable,
      accepted: String,
      _ help: String
    ) -> Spec {
      Spec(
        key: key,
        help: help,
        accepted: accepted,
        set: { (parameters, text) throws(ExperimentError) in
          guard let value = Value(text) else {
            throw .invalidParameterValue(key: key, value: text, expected: "one of \(accepted)")
          }
          parameters[keyPath: path] = value
        },
        get: { $0[keyPath: path].description }
      )
    }

    /// A list of positive numbers separated by commas (or spaces); `none` or empty clears it.
    static func grid(
      _ key: String,
      _ path: any WritableKeyPath<ExperimentParameters, [Double]> & Sendable,
      _ help: String
    ) -> Spec {
      Spec(
        key: key,
        help: help,
        accepted: "positive numbers separated by commas, or none",
        set: { (parameters, text) throws(ExperimentError) in
          let items = text.split(whereSeparator: { $0 == "," || $0 == " " }).map(String.init)
          if items.isEmpty || items == ["none"] {
            parameters[keyPath: path] = []
            return
          }
          var values: [Double] = []
          for item in items {
            guard let value = Double(item), value.isFinite, value > 0 else {
              throw .invalidParameterValue(
                key: key,
                value: item,
                expected: "positive numbers separated by commas, e.g. 0.5,1,2.5,3.5,5,10"
              )
            }
            guard !values.contains(value) else {
              throw .invalidParameterValue(
                key: key,
                value: item,
                expected: "each value at most once"
              )
            }
            values.append(value)
          }
          parameters[keyPath: path] = values
        },
        get: { parameters in
          let values = parameters[keyPath: path]
          return values.isEmpty ? "none" : values.map { String($0) }.joined(separator: ",")
        }
      )
    }
  }
}

extension String {
  func trimmingWhitespace() -> String {
    var s = Substring(self)
    while let first = s.first, first.isWhitespace { s.removeFirst() }
    while let last = s.last, last.isWhitespace { s.removeLast() }
    return String(s)
  }
}
