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
    let (beta1, beta2) = (configuration.beta1, configuration.beta2)
    let firstCorrection = Float(1 / (1 - Double(beta1).power(step)))
    let secondCorrection = Float(1 / (1 - Double(beta2).power(step)))
    let (learningRate, epsilon) = (configuration.learningRate, configuration.epsilon)
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
              let step = Step(
                beta1: beta1,
                beta2: beta2,
                firstCorrection: firstCorrection,
                secondCorrection: secondCorrection,
                learningRate: learningRate,
                epsilon: epsilon
              )
              Parallel.forEachChunk(of: g.count) { range in
                step.apply(
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

/// One Adam update's constants, applied element by element: eight lanes at a time, then one by
/// one for the tail. Both paths evaluate the same IEEE operations in the same order, so a value
/// never depends on which path computed it.
private struct Step {
  let beta1: Float
  let beta2: Float
  let firstCorrection: Float
  let secondCorrection: Float
  let learningRate: Float
  let epsilon: Float

  func apply(
    _ range: Range<Int>,
    gradient: UnsafePointer<Float>,
    parameter: UnsafeMutablePointer<Float>,
    firstMoment: UnsafeMutablePointer<Float>,
    secondMoment: UnsafeMutablePointer<Float>
  ) {
    var i = range.lowerBound
    while i + 8 <= range.upperBound {
      let g = UnsafeRawPointer(gradient + i).loadUnaligned(as: SIMD8<Float>.self)
      var m = UnsafeRawPointer(firstMoment + i).loadUnaligned(as: SIMD8<Float>.self)
      var v = UnsafeRawPointer(secondMoment + i).loadUnaligned(as: SIMD8<Float>.self)
      var theta = UnsafeRawPointer(parameter + i).loadUnaligned(as: SIMD8<Float>.self)
      m = beta1 * m + (1 - beta1) * g
      v = beta2 * v + (1 - beta2) * g * g
      let mHat = m * firstCorrection
      let vHat = v * secondCorrection
      theta -= learningRate * mHat / (vHat.squareRoot() + epsilon)
      UnsafeMutableRawPointer(firstMoment + i).storeBytes(of: m, as: SIMD8<Float>.self)
      UnsafeMutableRawPointer(secondMoment + i).storeBytes(of: v, as: SIMD8<Float>.self)
      UnsafeMutableRawPointer(parameter + i).storeBytes(of: theta, as: SIMD8<Float>.self)
      i += 8
    }
    while i < range.upperBound {
      firstMoment[i] = beta1 * firstMoment[i] + (1 - beta1) * gradient[i]
      secondMoment[i] = beta2 * secondMoment[i] + (1 - beta2) * gradient[i] * gradient[i]
      let mHat = firstMoment[i] * firstCorrection
      let vHat = secondMoment[i] * secondCorrection
      parameter[i] -= learningRate * mHat / (vHat.squareRoot() + epsilon)
      i += 1
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
