/// One `--set key=value` override of an ``ExperimentParameters`` value, validated on parsing.
public struct ProfileOverride: Sendable, Hashable, CustomStringConvertible {
  /// The parameter's command-line key, e.g. `rounds`.
  public let key: String
  /// The parsed value.
  public let value: Double

  /// Parses `key=value`, checking the key is known and the value in range.
  public init(parsing text: String) throws(ExperimentError) {
    let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
    guard parts.count == 2, !parts[0].isEmpty else { throw .malformedOverride(text) }
    let key = parts[0].trimmingWhitespace()
    let rawValue = parts[1].trimmingWhitespace()
    guard let spec = Self.specs.first(where: { $0.key == key }) else {
      throw .unknownParameter(key, known: Self.specs.map(\.key))
    }
    guard let value = Double(rawValue), value.isFinite,
      !spec.isInteger || value.rounded() == value
    else {
      throw .invalidParameterValue(
        key: key,
        value: rawValue,
        expected: spec.isInteger ? "an integer" : "a number"
      )
    }
    guard spec.range.contains(value) else {
      throw .parameterOutOfRange(key: key, value: rawValue, range: spec.rangeDescription)
    }
    self.key = key
    self.value = value
  }

  /// `key=value`, as typed.
  public var description: String {
    let spec = Self.specs.first { $0.key == key }!
    return spec.isInteger ? "\(key)=\(Int(value))" : "\(key)=\(value)"
  }

  func apply(to parameters: inout ExperimentParameters) {
    Self.specs.first { $0.key == key }!.set(&parameters, value)
  }

  /// Every overridable parameter: key, meaning and valid range.
  public static let specs: [Spec] = [
    .int("repetitions", \.repetitions, 1...100, "independent repetitions per configuration"),
    .int("rounds", \.rounds, 0...5000, "acquisition rounds"),
    .int("acquire-count", \.acquireCount, 1...1000, "images acquired per round"),
    .int("initial-per-class", \.initialPerClass, 1...100, "initial labelled images per class"),
    .int("validation", \.validation, 0...20000, "validation images held out of the pool"),
    .int("pool-subset", \.poolSubset, 0...60000, "pool points scored per round (0 = all)"),
    .int("mc-samples", \.mcSamples, 1...1000, "MC-dropout passes for scoring"),
    .int("test-mc-samples", \.testMCSamples, 1...1000, "MC-dropout passes for test accuracy"),
    .int("test-subset", \.testSubset, 0...10000, "test images evaluated (0 = all 10,000)"),
    .int("epochs", \.epochs, 1...10000, "training epochs per round"),
    .int("batch-size", \.batchSize, 1...60000, "minibatch size"),
    .double("weight-decay", \.weightDecay, 0...1e6, "c in lambda = c / N on the dense-128 weights"),
    .double("learning-rate", \.learningRate, 1e-9...10, "Adam learning rate"),
    .int("seed", \.seed, 0...Double(Int32.max), "root seed"),
  ]

  /// The description of one overridable parameter.
  public struct Spec: Sendable {
    /// The command-line key.
    public let key: String
    /// What the parameter means.
    public let help: String
    /// Whether only integers are accepted.
    public let isInteger: Bool
    let range: ClosedRange<Double>
    let set: @Sendable (inout ExperimentParameters, Double) -> Void
    let get: @Sendable (ExperimentParameters) -> String

    /// The valid range, as shown in errors.
    public var rangeDescription: String {
      isInteger
        ? "\(Int(range.lowerBound))...\(Int(range.upperBound))"
        : "\(range.lowerBound)...\(range.upperBound)"
    }

    /// The parameter's value in `parameters`, formatted for status and reports.
    public func value(in parameters: ExperimentParameters) -> String { get(parameters) }

    static func int(
      _ key: String,
      _ path: any WritableKeyPath<ExperimentParameters, Int> & Sendable,
      _ range: ClosedRange<Double>,
      _ help: String
    ) -> Spec {
      Spec(
        key: key,
        help: help,
        isInteger: true,
        range: range,
        set: { $0[keyPath: path] = Int($1) },
        get: { String($0[keyPath: path]) }
      )
    }

    static func double(
      _ key: String,
      _ path: any WritableKeyPath<ExperimentParameters, Double> & Sendable,
      _ range: ClosedRange<Double>,
      _ help: String
    ) -> Spec {
      Spec(
        key: key,
        help: help,
        isInteger: false,
        range: range,
        set: { $0[keyPath: path] = $1 },
        get: { String($0[keyPath: path]) }
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
