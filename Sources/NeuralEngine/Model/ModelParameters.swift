/// The eight parameter tensors of ``BayesianCNN``, named and shaped like PyTorch's `state_dict`.
///
/// | name | shape (paper) |
/// |---|---|
/// | `conv1.weight` | `[32, 1, 4, 4]` |
/// | `conv1.bias` | `[32]` |
/// | `conv2.weight` | `[32, 32, 4, 4]` |
/// | `conv2.bias` | `[32]` |
/// | `fc1.weight` | `[128, 3872]` |
/// | `fc1.bias` | `[128]` |
/// | `fc2.weight` | `[10, 128]` |
/// | `fc2.bias` | `[10]` |
///
/// The same type holds gradients and Adam's moment estimates.
public struct ModelParameters: Sendable, Hashable {
  /// `conv1.weight`, `[C, Cin, k, k]`.
  public var conv1Weight: Tensor
  /// `conv1.bias`, `[C]`.
  public var conv1Bias: Tensor
  /// `conv2.weight`, `[C, C, k, k]`.
  public var conv2Weight: Tensor
  /// `conv2.bias`, `[C]`.
  public var conv2Bias: Tensor
  /// `fc1.weight`, `[H, features]`.
  public var fc1Weight: Tensor
  /// `fc1.bias`, `[H]`.
  public var fc1Bias: Tensor
  /// `fc2.weight`, `[classes, H]`.
  public var fc2Weight: Tensor
  /// `fc2.bias`, `[classes]`.
  public var fc2Bias: Tensor

  /// The PyTorch names, in the order used everywhere (initialisation, checkpoints, Adam).
  public static let names = [
    "conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias",
    "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias",
  ]

  /// Zero tensors with the shapes of `architecture`.
  public init(zerosFor architecture: BayesianCNN.Architecture) {
    let shapes = architecture.parameterShapes
    conv1Weight = Tensor(shape: shapes[0])
    conv1Bias = Tensor(shape: shapes[1])
    conv2Weight = Tensor(shape: shapes[2])
    conv2Bias = Tensor(shape: shapes[3])
    fc1Weight = Tensor(shape: shapes[4])
    fc1Bias = Tensor(shape: shapes[5])
    fc2Weight = Tensor(shape: shapes[6])
    fc2Bias = Tensor(shape: shapes[7])
  }

  /// The tensor with a PyTorch name from ``names``.
  /// - Precondition: `name` is one of ``names``.
  public subscript(name: String) -> Tensor {
    get { self[keyPath: Self.keyPath(for: name)] }
    set { self[keyPath: Self.keyPath(for: name)] = newValue }
  }

  /// The tensors in ``names`` order.
  public var tensors: [Tensor] { Self.keyPaths.map { self[keyPath: $0] } }

  /// The total number of scalars (513,994 for the paper's model).
  public var scalarCount: Int { tensors.reduce(0) { $0 + $1.count } }

  /// Key paths in ``names`` order, for loops over all eight tensors.
  static var keyPaths: [WritableKeyPath<ModelParameters, Tensor>] {
    [
      \.conv1Weight, \.conv1Bias, \.conv2Weight, \.conv2Bias,
      \.fc1Weight, \.fc1Bias, \.fc2Weight, \.fc2Bias,
    ]
  }

  private static func keyPath(for name: String) -> WritableKeyPath<ModelParameters, Tensor> {
    guard let index = names.firstIndex(of: name) else {
      preconditionFailure("unknown parameter '\(name)'; known: \(names)")
    }
    return keyPaths[index]
  }
}
