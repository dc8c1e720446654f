/// The convolutional network of Gal, Islam & Ghahramani (2017), the Keras MNIST CNN:
///
///     input [N, 1, 28, 28]
///     conv 32@4x4 → ReLU → conv 32@4x4 → ReLU → max-pool 2x2 → dropout 0.25
///     → flatten 3872 → dense 128 → ReLU → dropout 0.5 → dense 10 → softmax
///
/// A value: the architecture and the parameters. Computation happens in a ``ComputeEngine``
/// (training, deterministic and Monte Carlo dropout prediction). Dropout is *inverted*: kept
/// units are scaled by `1 / (1 - p)` in training and MC passes; deterministic prediction uses
/// no dropout and no scaling.
public struct BayesianCNN: Sendable, Hashable {
  /// Layer sizes and dropout rates; ``paper`` is the published model.
  public struct Architecture: Sendable, Hashable, Codable {
    /// Height and width of the square input images.
    public var imageSize: Int
    /// Channels of the input images.
    public var inputChannels: Int
    /// Output channels of both convolutions.
    public var convolutionChannels: Int
    /// Height and width of both convolution kernels.
    public var kernelSize: Int
    /// Units of the hidden dense layer.
    public var hiddenUnits: Int
    /// Number of classes.
    public var classCount: Int
    /// Dropout rate after the pool.
    public var featureDropout: Float
    /// Dropout rate after the hidden dense layer.
    public var hiddenDropout: Float

    /// Creates an architecture; the defaults are the paper's.
    public init(
      imageSize: Int = 28,
      inputChannels: Int = 1,
      convolutionChannels: Int = 32,
      kernelSize: Int = 4,
      hiddenUnits: Int = 128,
      classCount: Int = 10,
      featureDropout: Float = 0.25,
      hiddenDropout: Float = 0.5
    ) {
      self.imageSize = imageSize
      self.inputChannels = inputChannels
      self.convolutionChannels = convolutionChannels
      self.kernelSize = kernelSize
      self.hiddenUnits = hiddenUnits
      self.classCount = classCount
      self.featureDropout = featureDropout
      self.hiddenDropout = hiddenDropout
    }

    /// The paper's network (28x28 MNIST, 3872 features, 513,994 parameters).
    public static let paper = Architecture()

    /// Side of the pooled feature maps: `(S - 2k + 2) / 2` (11 for the paper).
    public var pooledSize: Int { (imageSize - 2 * kernelSize + 2) / 2 }
    /// Features per image entering `fc1`: `C · P · P` (3872 for the paper).
    public var featureCount: Int { convolutionChannels * pooledSize * pooledSize }
    /// Scalars per input image.
    public var pixelCount: Int { inputChannels * imageSize * imageSize }

    /// Shapes of the parameters, in ``ModelParameters/names`` order.
    public var parameterShapes: [[Int]] {
      let (c, k) = (convolutionChannels, kernelSize)
      return [
        [c, inputChannels, k, k], [c], [c, c, k, k], [c],
        [hiddenUnits, featureCount], [hiddenUnits], [classCount, hiddenUnits], [classCount],
      ]
    }

    func convolutionShape(batch: Int) -> ConvolutionStack.Shape {
      ConvolutionStack.Shape(
        batch: batch,
        inputChannels: inputChannels,
        imageSize: imageSize,
        channels: convolutionChannels,
        kernelSize: kernelSize
      )
    }
  }

  /// The layer sizes and dropout rates.
  public var architecture: Architecture
  /// The weights and biases.
  public var parameters: ModelParameters

  /// A freshly initialised model: Glorot-uniform weights, `U(-l, l)` with
  /// `l = sqrt(6 / (fan_in + fan_out))`, and zero biases. The fans depend on `scheme` (see
  /// ``WeightInitialisation``); dense layers use `fan_in = inputs` and `fan_out = outputs` in
  /// both. Weights are drawn in ``ModelParameters/names`` order, each in row-major order, 24
  /// random bits per weight, so both schemes consume the same draws.
  public init(
    architecture: Architecture = .paper,
    initialisation scheme: WeightInitialisation = .glorot,
    generator: inout some RandomNumberGenerator
  ) {
    self.architecture = architecture
    var parameters = ModelParameters(zerosFor: architecture)
    for keyPath in [\ModelParameters.conv1Weight, \.conv2Weight, \.fc1Weight, \.fc2Weight] {
      let limit = scheme.limit(shape: parameters[keyPath: keyPath].shape)
      parameters[keyPath: keyPath].withUnsafeMutableBufferPointer { weights in
        for index in weights.indices {
          let unit = Float(generator.next() >> 40) * (1 / 16_777_216)  // [0, 1)
          weights[index] = (2 * unit - 1) * limit
        }
      }
    }
    self.parameters = parameters
  }

  /// A model with given parameters.
  /// - Precondition: every tensor has the shape `architecture` requires.
  public init(architecture: Architecture = .paper, parameters: ModelParameters) {
    for (name, (tensor, shape)) in zip(
      ModelParameters.names,
      zip(parameters.tensors, architecture.parameterShapes)
    ) {
      precondition(tensor.shape == shape, "\(name) has shape \(tensor.shape), expected \(shape)")
    }
    self.architecture = architecture
    self.parameters = parameters
  }
}

/// How the Glorot-uniform limit of a weight tensor is computed.
///
/// The two schemes differ only for convolutions (`[out, in, kh, kw]` weights):
/// - ``glorot``: Glorot & Bengio (2010) as in Keras >= 1.0 and PyTorch's `xavier_uniform_`:
///   `fan_in = in·kh·kw`, `fan_out = out·kh·kw`. Paper network: conv1 ±0.107, conv2 ±0.0765.
/// - ``keras03``: the Keras 0.3 that the authors' scripts ran (`keras/initializations.py`,
///   `get_fans`): `fan_in = in·kh·kw` but `fan_out = out` (the receptive field is left out).
///   Paper network: conv1 ±0.354, conv2 ±0.105.
///
/// Dense layers (`[out, in]`): `fan_in = in`, `fan_out = out` in both (fc1 ±0.0387, fc2 ±0.2085).
public enum WeightInitialisation: String, Sendable, Hashable, Codable, CaseIterable {
  /// The fans of the Keras 0.3 the authors ran (fan_out of a convolution = its filter count).
  case keras03 = "keras-0.3"
  /// The fans of Glorot & Bengio (2010), Keras >= 1.0 and PyTorch.
  case glorot

  /// The limit `sqrt(6 / (fan_in + fan_out))` for a weight tensor of `shape`
  /// (`[out, in]` or `[out, in, kh, kw]`).
  public func limit(shape: [Int]) -> Float {
    let receptiveField = shape.dropFirst(2).reduce(1, *)
    let fanIn = shape[1] * receptiveField
    let fanOut =
      switch self {
      case .glorot: shape[0] * receptiveField
      case .keras03: shape[0]
      }
    return (6 / Float(fanIn + fanOut)).squareRoot()
  }
}
