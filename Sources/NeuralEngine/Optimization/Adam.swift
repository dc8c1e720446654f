/// Adam (Kingma & Ba 2015) with Keras' defaults and bias correction.
///
/// For each parameter `θ` with gradient `g`, at step `t` (1 on the first update):
///
///     m ← β1·m + (1 − β1)·g          v ← β2·v + (1 − β2)·g²
///     m̂ = m / (1 − β1^t)             v̂ = v / (1 − β2^t)
///     θ ← θ − lr · m̂ / (√v̂ + ε)
///
/// The whole state (``step`` and the moments) is stored in checkpoints so training resumes
/// bit-identically.
public struct Adam: Sendable, Hashable {
  /// Hyper-parameters; the defaults are Keras': lr 1e-3, β1 0.9, β2 0.999, ε 1e-8.
  public struct Configuration: Sendable, Hashable, Codable {
    /// Step size `lr`.
    public var learningRate: Float
    /// Decay of the first-moment estimate, `β1`.
    public var beta1: Float
    /// Decay of the second-moment estimate, `β2`.
    public var beta2: Float
    /// The term `ε` that keeps the denominator positive.
    public var epsilon: Float

    /// Creates a configuration; the defaults are Keras'.
    public init(
      learningRate: Float = 1e-3,
      beta1: Float = 0.9,
      beta2: Float = 0.999,
      epsilon: Float = 1e-8
    ) {
      precondition(learningRate > 0, "learning rate \(learningRate) must be positive")
      precondition((0..<1).contains(beta1) && (0..<1).contains(beta2), "betas must lie in [0, 1)")
      self.learningRate = learningRate
      self.beta1 = beta1
      self.beta2 = beta2
      self.epsilon = epsilon
    }
  }

  /// The hyper-parameters.
  public var configuration: Configuration
  /// Updates applied so far (`t` of the last update).
  public var step: Int
  /// First-moment estimates `m`, one tensor per parameter.
  public var firstMoment: ModelParameters
  /// Second-moment estimates `v`, one tensor per parameter.
  public var secondMoment: ModelParameters

  /// A fresh optimizer (step 0, zero moments) for a model of `architecture`.
  public init(
    configuration: Configuration = Configuration(),
    for architecture: BayesianCNN.Architecture
  ) {
    self.configuration = configuration
    self.step = 0
    self.firstMoment = ModelParameters(zerosFor: architecture)
    self.secondMoment = ModelParameters(zerosFor: architecture)
  }

  /// An optimizer restored from saved state.
  public init(
    configuration: Configuration,
    step: Int,
    firstMoment: ModelParameters,
    secondMoment: ModelParameters
  ) {
    precondition(step >= 0, "negative Adam step \(step)")
    self.configuration = configuration
    self.step = step
    self.firstMoment = firstMoment
    self.secondMoment = secondMoment
  }

  /// Applies one update to `parameters` along `gradients` (same shapes as the moments).
  public mutating func update(_ parameters: inout ModelParameters, along gradients: ModelParameters)
  {
    step += 1
    let update = Step(configuration: configuration, step: step)
    for keyPath in ModelParameters.keyPaths {
      let gradient = gradients[keyPath: keyPath]
      precondition(
        gradient.shape == parameters[keyPath: keyPath].shape,
        "gradient shape \(gradient.shape) != parameter shape \(parameters[keyPath: keyPath].shape)"
      )
      gradient.withUnsafeBufferPointer { g in
        parameters[keyPath: keyPath].withUnsafeMutableBufferPointer { theta in
          firstMoment[keyPath: keyPath].withUnsafeMutableBufferPointer { m in
            secondMoment[keyPath: keyPath].withUnsafeMutableBufferPointer { v in
              Parallel.forEachChunk(of: g.count) { range in
                update.apply(
                  range,
                  gradient: g.baseAddress!,
                  parameter: theta.baseAddress!,
                  firstMoment: m.baseAddress!,
                  secondMoment: v.baseAddress!
                )
              }
            }
          }
        }
      }
    }
  }
}

/// One Adam update (the configuration and step `t`'s bias corrections), applied eight lanes
/// at a time. A range's tail goes through the same vector formula on zero-padded lanes, so
/// every element gets the same IEEE operations in the same order wherever it lies.
private struct Step {
  let configuration: Adam.Configuration
  /// `1 / (1 − β1^t)`.
  let firstCorrection: Float
  /// `1 / (1 − β2^t)`.
  let secondCorrection: Float

  init(configuration: Adam.Configuration, step: Int) {
    self.configuration = configuration
    firstCorrection = Float(1 / (1 - Double(configuration.beta1).power(step)))
    secondCorrection = Float(1 / (1 - Double(configuration.beta2).power(step)))
  }

  /// The type's formulas on eight lanes.
  @inline(__always)
  private func update(
    gradient g: SIMD8<Float>,
    parameter theta: inout SIMD8<Float>,
    firstMoment m: inout SIMD8<Float>,
    secondMoment v: inout SIMD8<Float>
  ) {
    let (beta1, beta2) = (configuration.beta1, configuration.beta2)
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    let mHat = m * firstCorrection
    let vHat = v * secondCorrection
    theta -= configuration.learningRate * mHat / (vHat.squareRoot() + configuration.epsilon)
  }

  func apply(
    _ range: Range<Int>,
    gradient: UnsafePointer<Float>,
    parameter: UnsafeMutablePointer<Float>,
    firstMoment: UnsafeMutablePointer<Float>,
    secondMoment: UnsafeMutablePointer<Float>
  ) {
    var i = range.lowerBound
    while i < range.upperBound {
      let lanes = min(8, range.upperBound - i)
      var (g, theta, m, v) = (SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>())
      if lanes == 8 {
        g = UnsafeRawPointer(gradient + i).loadUnaligned(as: SIMD8<Float>.self)
        theta = UnsafeRawPointer(parameter + i).loadUnaligned(as: SIMD8<Float>.self)
        m = UnsafeRawPointer(firstMoment + i).loadUnaligned(as: SIMD8<Float>.self)
        v = UnsafeRawPointer(secondMoment + i).loadUnaligned(as: SIMD8<Float>.self)
      } else {
        for lane in 0..<lanes {
          (g[lane], theta[lane]) = (gradient[i + lane], parameter[i + lane])
          (m[lane], v[lane]) = (firstMoment[i + lane], secondMoment[i + lane])
        }
      }
      update(gradient: g, parameter: &theta, firstMoment: &m, secondMoment: &v)
      if lanes == 8 {
        UnsafeMutableRawPointer(parameter + i).storeBytes(of: theta, as: SIMD8<Float>.self)
        UnsafeMutableRawPointer(firstMoment + i).storeBytes(of: m, as: SIMD8<Float>.self)
        UnsafeMutableRawPointer(secondMoment + i).storeBytes(of: v, as: SIMD8<Float>.self)
      } else {
        for lane in 0..<lanes {
          (parameter[i + lane], firstMoment[i + lane]) = (theta[lane], m[lane])
          secondMoment[i + lane] = v[lane]
        }
      }
      i += lanes
    }
  }
}

extension Double {
  /// `self` raised to a non-negative integer power, by repeated squaring.
  fileprivate func power(_ exponent: Int) -> Double {
    var (result, base, remaining) = (1.0, self, exponent)
    while remaining > 0 {
      if remaining & 1 == 1 { result *= base }
      base *= base
      remaining >>= 1
    }
    return result
  }
}
