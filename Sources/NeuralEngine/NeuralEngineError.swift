/// Errors thrown by the neural engine: oneDNN failures and unusable checkpoints.
///
/// Shape mismatches in calls are programmer errors and trap with a `precondition` instead.
public enum NeuralEngineError: Error, CustomStringConvertible, Equatable, Sendable {
  /// A oneDNN call failed; `status` is oneDNN's name for the failure.
  case oneDNN(operation: String, status: String)
  /// A checkpoint lacks a dataset the engine needs.
  case missingDataset(
    file: String,
    dataset: String,
    expectedShape: [Int],
    nearMisses: [String] = []
  )
  /// A checkpoint dataset has the wrong shape.
  case shapeMismatch(file: String, dataset: String, expected: [Int], found: [Int])
  /// A checkpoint dataset has the wrong element type.
  case typeMismatch(file: String, dataset: String, expected: String, found: String)
  /// A checkpoint value is present but unusable (for example an all-zero generator state).
  case invalidValue(file: String, dataset: String, reason: String)

  /// A message that says what went wrong and how to fix it.
  public var description: String {
    switch self {
    case .oneDNN(let operation, let status):
      return "oneDNN failed in \(operation) with status '\(status)'. Check that libdnnl 2.6 is "
        + "installed (apt-get install libdnnl-dev) and that the shapes are supported."
    case .missingDataset(let file, let dataset, let expectedShape, let nearMisses):
      return "checkpoint '\(file)' has no dataset '\(dataset)' (expected shape \(expectedShape))"
        + (nearMisses.isEmpty
          ? "" : "; it has similar names: " + nearMisses.joined(separator: ", "))
        + ". A checkpoint holds conv1.weight, conv1.bias, conv2.weight, conv2.bias, fc1.weight, "
        + "fc1.bias, fc2.weight and fc2.bias at the file's root, as PyTorch names them (a "
        + "DataParallel 'module.' prefix is fine); from PyTorch: "
        + "`for k, v in model.state_dict().items(): f[k] = v.numpy()` with h5py."
    case .shapeMismatch(let file, let dataset, let expected, let found):
      return "checkpoint '\(file)': dataset '\(dataset)' has shape \(found), expected \(expected); "
        + "the checkpoint was written for a different architecture."
    case .typeMismatch(let file, let dataset, let expected, let found):
      return "checkpoint '\(file)': dataset '\(dataset)' holds \(found), expected \(expected); "
        + "rewrite it with the expected element type."
    case .invalidValue(let file, let dataset, let reason):
      return "checkpoint '\(file)': dataset '\(dataset)' is unusable: \(reason)."
    }
  }
}
