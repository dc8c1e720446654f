/// Everything that can go wrong while planning or running an experiment, each with the fix.
public enum ExperimentError: Error, CustomStringConvertible, Equatable {
  /// `--profile` named a profile that does not exist.
  case unknownProfile(String, known: [String])
  /// A `--set` argument is not of the form `key=value`.
  case malformedOverride(String)
  /// A `--set` key is not a parameter.
  case unknownParameter(String, known: [String])
  /// A `--set` value does not parse as the parameter's type.
  case invalidParameterValue(key: String, value: String, expected: String)
  /// A `--set` value is outside the parameter's valid range.
  case parameterOutOfRange(key: String, value: String, range: String)
  /// No `Pipelines/<name>.md` document exists.
  case unknownTarget(String, known: [String], directory: String)
  /// An artifact holds something the stage cannot use (wrong shape, out-of-range index).
  case invalidArtifact(file: String, problem: String)
  /// The parameters cannot produce a valid experiment (e.g. more rounds than pool points).
  case infeasible(String)
  /// A computation produced NaN or an infinity where only finite numbers make sense.
  case nonFinite(String)
  /// A setting written in a literate document (`set:`, `validation:`) is invalid.
  indirect case inDocument(file: String, line: Int, ExperimentError)

  /// A message naming the problem and how to fix it.
  public var description: String {
    switch self {
    case .unknownProfile(let name, let known):
      "unknown profile \"\(name)\"; choose one of: \(known.joined(separator: ", "))"
    case .malformedOverride(let text):
      "malformed --set \"\(text)\": expected key=value, e.g. --set rounds=30"
    case .unknownParameter(let key, let known):
      "unknown parameter \"\(key)\"; known parameters: \(known.joined(separator: ", "))"
    case .invalidParameterValue(let key, let value, let expected):
      "invalid value \"\(value)\" for \(key): expected \(expected)"
    case .parameterOutOfRange(let key, let value, let range):
      "value \(value) for \(key) is out of range; allowed: \(range)"
    case .unknownTarget(let name, let known, let directory):
      "unknown target \"\(name)\": there is no \(directory)/\(name).md; targets: "
        + (known.isEmpty ? "(none)" : known.joined(separator: ", "))
        + ". Run `pipeline list` to see them, or add a document to \(directory)/."
    case .invalidArtifact(let file, let problem):
      "\(file): \(problem). Delete the cache entry holding it (the folder that contains "
        + "the file) and rerun the same command to recompute it."
    case .infeasible(let problem):
      "these parameters cannot run: \(problem)"
    case .nonFinite(let what):
      "\(what). Nothing was committed for this stage; check the inputs and the "
        + "parameters (a learning rate or weight decay that is too large makes training diverge)"
    case .inDocument(let file, let line, let error):
      "\(file):\(line): in the dbal-experiment block: \(error)"
    }
  }
}
