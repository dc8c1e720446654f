/// The dense head of ``BayesianCNN``, `dropout → fc1 → ReLU → dropout → fc2 → softmax`: the one
/// definition that training, deterministic prediction and both Monte Carlo paths run, with its
/// paired backward pass.
///
/// Shapes, for `R` rows (at most ``capacity``), `F` features, `H` hidden units and `C` classes
/// (``BayesianCNN/Architecture``): the input features are `[*, F]` row-major; the head's
/// buffers are `[R, F]` (dropped features, masks), `[R, H]` (hidden units) and `[R, C]`
/// (logits, ``probabilities``). A class because it owns those buffers, allocated once and
/// reused for every batch.
final class DenseHead {
  let architecture: BayesianCNN.Architecture
  /// The most rows one call may run.
  let capacity: Int
  /// Whether the masks and the pre-dropout activations are kept for ``backward``.
  let isTraining: Bool

  /// Softmax outputs `[R, C]`, valid after ``forward(parameters:features:rows:dropout:)``.
  let probabilities: ScratchBuffer<Float>

  private let droppedFeatures: ScratchBuffer<Float>
  private let featureMask: ScratchBuffer<Float>
  private let hidden: ScratchBuffer<Float>
  private let hiddenMask: ScratchBuffer<Float>
  private let droppedHidden: ScratchBuffer<Float>
  private let logits: ScratchBuffer<Float>
  private let logitsGradient: ScratchBuffer<Float>
  private let hiddenGradient: ScratchBuffer<Float>

  /// State of the last forward pass, which ``backward`` reads.
  private var lastRows = 0
  private var lastDropout = false

  /// Which dropout masks the head's rows get, so that every path draws the same masks.
  ///
  /// Row `r` belongs to Monte Carlo sample `firstSample + r / rowsPerSample` and image position
  /// `i = r % rowsPerSample`: it reads feature row `firstFeatureRow + i` and gets the masks of
  /// `DropoutMaskSampler.rowGenerator(seed:layer:sample:row:)` with row `firstMaskRow + i`
  /// (layer 0 after the features, 1 after the hidden layer). Masks therefore depend only on
  /// the seed, the sample and the image, never on batching or threads.
  struct DropoutAssignment {
    var seed: UInt64
    var rowsPerSample: Int
    var firstSample = 0
    var firstMaskRow = 0
    var firstFeatureRow = 0

    /// One pass (sample `sample`) over `rows` consecutive feature rows, the first of which is
    /// image `firstImage`.
    static func singlePass(seed: UInt64, sample: Int, firstImage: Int, rows: Int) -> Self {
      DropoutAssignment(
        seed: seed,
        rowsPerSample: rows,
        firstSample: sample,
        firstMaskRow: firstImage
      )
    }
  }

  /// - Parameter training: keep what ``backward`` needs (dropout masks, activations before
  ///   dropout); inference applies masks without storing them.
  init(architecture: BayesianCNN.Architecture, capacity: Int, training: Bool) {
    self.architecture = architecture
    self.capacity = capacity
    isTraining = training
    let (f, h, c) = (architecture.featureCount, architecture.hiddenUnits, architecture.classCount)
    let kept = training ? capacity : 0
    probabilities = ScratchBuffer(count: capacity * c, zero: 0)
    droppedFeatures = ScratchBuffer(count: capacity * f, zero: 0)
    featureMask = ScratchBuffer(count: kept * f, zero: 0)
    hidden = ScratchBuffer(count: capacity * h, zero: 0)
    hiddenMask = ScratchBuffer(count: kept * h, zero: 0)
    droppedHidden = ScratchBuffer(count: kept * h, zero: 0)
    logits = ScratchBuffer(count: capacity * c, zero: 0)
    logitsGradient = ScratchBuffer(count: kept * c, zero: 0)
    hiddenGradient = ScratchBuffer(count: kept * h, zero: 0)
  }

  // MARK: - Forward

  /// Runs the head on `rows` rows and writes ``probabilities`` `[rows, C]`.
  ///
  /// - Parameters:
  ///   - features: `[*, F]`; with `dropout` nil, exactly the `rows` rows that are read.
  ///   - dropout: the masks of each row (see ``DropoutAssignment``); nil runs with dropout off
  ///     (the deterministic network).
  func forward(
    parameters: ModelParameters,
    features: UnsafePointer<Float>,
    rows: Int,
    dropout: DropoutAssignment?
  ) {
    precondition(rows <= capacity, "\(rows) rows for a head of capacity \(capacity)")
    let (f, h, c) = (architecture.featureCount, architecture.hiddenUnits, architecture.classCount)
    lastRows = rows
    lastDropout = dropout != nil
    var fc1Input = features
    if let dropout {
      drop(
        rows: rows,
        width: f,
        rate: architecture.featureDropout,
        layer: 0,
        assignment: dropout,
        input: { row in features + (dropout.firstFeatureRow + row % dropout.rowsPerSample) * f },
        output: droppedFeatures.pointer,
        masks: isTraining ? featureMask.pointer : nil
      )
      fc1Input = UnsafePointer(droppedFeatures.pointer)
    }
    Self.dense(fc1Input, parameters.fc1Weight, parameters.fc1Bias, hidden.pointer, rows, f, h)
    ReLU.forward(input: hidden.pointer, output: hidden.pointer, count: rows * h)
    var fc2Input = UnsafePointer(hidden.pointer)
    if let dropout {
      // Training keeps the activations before dropout for ReLU's backward pass.
      let output = isTraining ? droppedHidden.pointer : hidden.pointer
      let hidden = hidden.pointer
      drop(
        rows: rows,
        width: h,
        rate: architecture.hiddenDropout,
        layer: 1,
        assignment: dropout,
        input: { row in UnsafePointer(hidden + row * h) },
        output: output,
        masks: isTraining ? hiddenMask.pointer : nil
      )
      fc2Input = UnsafePointer(output)
    }
    Self.dense(fc2Input, parameters.fc2Weight, parameters.fc2Bias, logits.pointer, rows, h, c)
    SoftmaxCrossEntropy.softmax(
      logits: logits.pointer,
      probabilities: probabilities.pointer,
      rows: rows,
      classes: c
    )
  }

  /// Mean cross-entropy of the last forward pass against `labels` (`[R]` class indices).
  func crossEntropy(labels: UnsafePointer<Int32>) -> Double {
    SoftmaxCrossEntropy.forward(
      logits: logits.pointer,
      labels: labels,
      probabilities: probabilities.pointer,
      rows: lastRows,
      classes: architecture.classCount
    )
  }

  // MARK: - Backward

  /// The gradient of `mean cross-entropy + penalty · Σ fc1.weight²` for the last forward pass
  /// (which must have had dropout on, as training does): writes the dense layers' gradients
  /// into `gradients` and the features' gradient `[R, F]` into `featuresGradient`; returns the
  /// penalty's value.
  func backward(
    parameters: ModelParameters,
    labels: UnsafePointer<Int32>,
    penalty: Float,
    gradients: inout ModelParameters,
    featuresGradient: UnsafeMutablePointer<Float>
  ) -> Double {
    precondition(isTraining && lastDropout, "backward needs a training forward pass")
    let (n, f, h, c) = (
      lastRows, architecture.featureCount, architecture.hiddenUnits, architecture.classCount
    )
    SoftmaxCrossEntropy.backward(
      probabilities: probabilities.pointer,
      labels: labels,
      logitsGradient: logitsGradient.pointer,
      rows: n,
      classes: c
    )
    Self.denseBackward(
      logitsGradient.pointer,
      input: droppedHidden.pointer,
      parameters.fc2Weight,
      &gradients.fc2Weight,
      &gradients.fc2Bias,
      inputGradient: hiddenGradient.pointer,
      rows: n,
      inputs: h,
      outputs: c
    )
    Dropout.backward(
      outputGradient: hiddenGradient.pointer,
      mask: hiddenMask.pointer,
      inputGradient: hiddenGradient.pointer,
      count: n * h
    )
    ReLU.backward(
      output: hidden.pointer,
      outputGradient: hiddenGradient.pointer,
      inputGradient: hiddenGradient.pointer,
      count: n * h
    )
    Self.denseBackward(
      hiddenGradient.pointer,
      input: droppedFeatures.pointer,
      parameters.fc1Weight,
      &gradients.fc1Weight,
      &gradients.fc1Bias,
      inputGradient: featuresGradient,
      rows: n,
      inputs: f,
      outputs: h
    )
    var penaltyValue = 0.0
    parameters.fc1Weight.withUnsafeBufferPointer { weight in
      gradients.fc1Weight.withUnsafeMutableBufferPointer { weightGradient in
        penaltyValue = WeightPenalty.forwardAndBackward(
          weights: weight,
          coefficient: penalty,
          gradient: weightGradient
        )
      }
    }
    Dropout.backward(
      outputGradient: featuresGradient,
      mask: featureMask.pointer,
      inputGradient: featuresGradient,
      count: n * f
    )
    return penaltyValue
  }

  // MARK: - Helpers

  /// `output = input · W + b` for `rows` rows of `inputs` units.
  private static func dense(
    _ input: UnsafePointer<Float>,
    _ weight: Tensor,
    _ bias: Tensor,
    _ output: UnsafeMutablePointer<Float>,
    _ rows: Int,
    _ inputs: Int,
    _ outputs: Int
  ) {
    weight.withUnsafeBufferPointer { weight in
      bias.withUnsafeBufferPointer { bias in
        Dense.forward(
          input: input,
          weight: weight.baseAddress!,
          bias: bias.baseAddress!,
          output: output,
          batch: rows,
          inputs: inputs,
          outputs: outputs
        )
      }
    }
  }

  /// The backward pass of `output = input · W + b`: overwrites the weight and bias gradients
  /// and writes the input's gradient.
  private static func denseBackward(
    _ outputGradient: UnsafePointer<Float>,
    input: UnsafePointer<Float>,
    _ weight: Tensor,
    _ weightGradient: inout Tensor,
    _ biasGradient: inout Tensor,
    inputGradient: UnsafeMutablePointer<Float>,
    rows: Int,
    inputs: Int,
    outputs: Int
  ) {
    weight.withUnsafeBufferPointer { weight in
      weightGradient.withUnsafeMutableBufferPointer { weightGradient in
        biasGradient.withUnsafeMutableBufferPointer { biasGradient in
          Dense.backward(
            outputGradient: outputGradient,
            input: input,
            weight: weight.baseAddress!,
            inputGradient: inputGradient,
            weightGradient: weightGradient.baseAddress!,
            biasGradient: biasGradient.baseAddress!,
            batch: rows,
            inputs: inputs,
            outputs: outputs
          )
        }
      }
    }
  }

  /// One dropout layer on `rows` rows of `width` units, on all cores: row `r` reads `input(r)`
  /// and gets its mask from its own row generator (see ``DropoutAssignment``), stored in
  /// `masks` when given (training) or applied without storing (inference). Both draw the same
  /// mask and give the same values.
  private func drop(
    rows: Int,
    width: Int,
    rate: Float,
    layer: Int,
    assignment: DropoutAssignment,
    input: (Int) -> UnsafePointer<Float>,
    output: UnsafeMutablePointer<Float>,
    masks: UnsafeMutablePointer<Float>?
  ) {
    let sampler = DropoutMaskSampler(rate: rate)
    Parallel.forEachRange(of: rows, parts: 8) { _, range in
      for row in range {
        let (sample, image) = row.quotientAndRemainder(dividingBy: assignment.rowsPerSample)
        var generator = DropoutMaskSampler.rowGenerator(
          seed: assignment.seed,
          layer: layer,
          sample: assignment.firstSample + sample,
          row: assignment.firstMaskRow + image
        )
        if let masks {
          let mask = masks + row * width
          sampler.fill(mask, count: width, generator: &generator)
          Dropout.forward(
            input: input(row),
            mask: mask,
            output: output + row * width,
            count: width
          )
        } else {
          sampler.apply(
            input: input(row),
            output: output + row * width,
            count: width,
            generator: &generator
          )
        }
      }
    }
  }
}
