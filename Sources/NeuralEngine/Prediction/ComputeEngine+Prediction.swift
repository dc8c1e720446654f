/// How Monte Carlo dropout prediction runs its `T` stochastic passes.
public enum MonteCarloStrategy: Sendable, Hashable, Codable {
  /// Runs the deterministic layers before the first dropout (conv → ReLU → conv → ReLU →
  /// pool, 94% of the FLOPs) once per image, then only the dropout → fc1 → ReLU → dropout →
  /// fc2 → softmax head `T` times, as one `[T·chunk, features] × [features, hidden]` product.
  case sharedFeatures
  /// `T` full stochastic passes of the whole network (what Keras' `predict_stochastic` does);
  /// for comparison and tests.
  case fullPasses
}

/// Which dropout masks the `T` passes of Monte Carlo dropout draw.
///
/// The raw values are the spellings of `--set mc-dropout-masks=...` and of cache keys.
public enum MonteCarloMasks: String, Sendable, Hashable, Codable, CaseIterable {
  /// A mask per image and pass (what Keras' `predict_stochastic` and the paper do): each
  /// image sees its own `T` weight samples. Right for scores of one point at a time (BALD).
  case independent
  /// *Consistent* MC dropout (Kirsch et al. 2019): one mask per pass, shared by every image,
  /// so that all images see the same `T` weight samples, as a joint over several points
  /// (BatchBALD) needs. The mask of pass `t` is the one image 0 gets in pass `t` of the
  /// independent mode. With a shared mask the head's products become masked-weight products:
  /// the columns of `fc1.weight` and `fc2.weight` are masked once per pass and every image
  /// goes through one matrix product.
  case consistent
}

extension ComputeEngine {
  // MARK: - Deterministic prediction

  /// Class probabilities `[N, classCount]` with dropout off.
  ///
  /// - Parameters:
  ///   - images: `[N, Cin, S, S]` (or any shape with `N · Cin·S·S` elements).
  ///   - batchSize: images per oneDNN pass (memory grows with it, not with `N`).
  public func predictProbabilities(
    _ model: BayesianCNN,
    images: Tensor,
    batchSize: Int = 128
  ) throws -> Tensor {
    let architecture = model.architecture
    let count = Self.imageCount(images, architecture)
    let classes = architecture.classCount
    var output = [Float](repeating: 0, count: count * classes)
    let workspaces = try InferenceWorkspaces(self, model, images: count, batchSize: batchSize)
    try images.withUnsafeBufferPointer { pixels in
      for start in stride(from: 0, to: count, by: batchSize) {
        let rows = start..<min(start + batchSize, count)
        let workspace = workspaces[rows.count]
        workspace.load(images: pixels, rows: rows)
        try workspace.forward(parameters: model.parameters, dropout: nil)
        output.withUnsafeMutableBufferPointer { output in
          (output.baseAddress! + start * classes).update(
            from: workspace.probabilities.pointer,
            count: rows.count * classes
          )
        }
      }
    }
    return Tensor(shape: [count, classes], scalars: output)
  }

  // MARK: - Monte Carlo dropout

  /// Class probabilities of `samples` stochastic passes with dropout on: `[T, N, classCount]`.
  ///
  /// The masks are drawn from a seed taken from `generator` (one draw), and the mask of pass
  /// `t`, image `i`, dropout layer `l` depends only on `(seed, l, t, i)`: both strategies see
  /// the same masks and give the same probabilities up to floating-point summation order.
  ///
  /// - Parameters:
  ///   - samples: `T`, the number of stochastic passes.
  ///   - masks: a mask per image and pass, or one per pass shared by all images
  ///     (``MonteCarloMasks/consistent``; shared features only).
  ///   - batchSize: images per convolution pass; memory is proportional to it (and to
  ///     `headRows`), not to `N`.
  ///   - headRows: the most rows `T·chunk` of one head product in ``MonteCarloStrategy/sharedFeatures``
  ///     (default 2048: 32 MB of features for the paper's model).
  public func predictMonteCarlo(
    _ model: BayesianCNN,
    images: Tensor,
    samples: Int,
    generator: inout SeededGenerator,
    strategy: MonteCarloStrategy = .sharedFeatures,
    masks: MonteCarloMasks = .independent,
    batchSize: Int = 128,
    headRows: Int = 2048
  ) throws -> Tensor {
    precondition(samples > 0, "Monte Carlo prediction needs at least one sample")
    precondition(
      masks == .independent || strategy == .sharedFeatures,
      "consistent masks run on the shared-features path"
    )
    let architecture = model.architecture
    let count = Self.imageCount(images, architecture)
    let classes = architecture.classCount
    let seed = generator.next()
    switch strategy {
    case .sharedFeatures:
      return try sharedFeaturePasses(
        model,
        images: images,
        samples: samples,
        seed: seed,
        deterministic: false,
        masks: masks,
        batchSize: batchSize,
        headRows: headRows
      ).monteCarlo
    case .fullPasses:
      var output = [Float](repeating: 0, count: samples * count * classes)
      let workspaces = try InferenceWorkspaces(self, model, images: count, batchSize: batchSize)
      try images.withUnsafeBufferPointer { pixels in
        try output.withUnsafeMutableBufferPointer { output in
          let output = output.baseAddress!
          for sample in 0..<samples {
            for start in stride(from: 0, to: count, by: batchSize) {
              let rows = start..<min(start + batchSize, count)
              let workspace = workspaces[rows.count]
              workspace.load(images: pixels, rows: rows)
              try workspace.forward(
                parameters: model.parameters,
                dropout: .init(seed: seed, sample: sample, firstRow: start)
              )
              (output + (sample * count + start) * classes).update(
                from: workspace.probabilities.pointer,
                count: rows.count * classes
              )
            }
          }
        }
      }
      return Tensor(shape: [samples, count, classes], scalars: output)
    }
  }

  // MARK: - Both at once

  /// ``predictProbabilities(_:images:batchSize:)`` and
  /// ``predictMonteCarlo(_:images:samples:generator:strategy:batchSize:headRows:)`` (shared
  /// features) from one convolution pass per image, with the same results bit for bit: the
  /// convolutions are 94% of a deterministic pass, so evaluating both ways costs one pass less.
  ///
  /// - Returns: `deterministic [N, classCount]` and `monteCarlo [T, N, classCount]`.
  public func predictDeterministicAndMonteCarlo(
    _ model: BayesianCNN,
    images: Tensor,
    samples: Int,
    generator: inout SeededGenerator,
    batchSize: Int = 128,
    headRows: Int = 2048
  ) throws -> (deterministic: Tensor, monteCarlo: Tensor) {
    precondition(samples > 0, "Monte Carlo prediction needs at least one sample")
    let passes = try sharedFeaturePasses(
      model,
      images: images,
      samples: samples,
      seed: generator.next(),
      deterministic: true,
      masks: .independent,
      batchSize: batchSize,
      headRows: headRows
    )
    let shape = [Self.imageCount(images, model.architecture), model.architecture.classCount]
    return (Tensor(shape: shape, scalars: passes.deterministic), passes.monteCarlo)
  }

  /// The convolutions once per batch of images, then the stochastic head `samples` times
  /// (masks from `seed`) and, when `deterministic`, the head with dropout off as well (its
  /// `[N, classCount]` probabilities; empty otherwise).
  private func sharedFeaturePasses(
    _ model: BayesianCNN,
    images: Tensor,
    samples: Int,
    seed: UInt64,
    deterministic: Bool,
    masks: MonteCarloMasks,
    batchSize: Int,
    headRows: Int
  ) throws -> (deterministic: [Float], monteCarlo: Tensor) {
    let architecture = model.architecture
    let count = Self.imageCount(images, architecture)
    let classes = architecture.classCount
    var output = [Float](repeating: 0, count: samples * count * classes)
    var deterministicOutput = [Float](repeating: 0, count: deterministic ? count * classes : 0)
    let head = MonteCarloHead(
      model: model,
      samples: samples,
      rowBudget: max(headRows, samples),
      seed: seed,
      masks: masks
    )
    let workspaces = try InferenceWorkspaces(self, model, images: count, batchSize: batchSize)
    try images.withUnsafeBufferPointer { pixels in
      try output.withUnsafeMutableBufferPointer { output in
        try deterministicOutput.withUnsafeMutableBufferPointer { deterministicOutput in
          for start in stride(from: 0, to: count, by: batchSize) {
            let rows = start..<min(start + batchSize, count)
            let workspace = workspaces[rows.count]
            workspace.load(images: pixels, rows: rows)
            try workspace.convolution.forward()
            if deterministic {
              workspace.forwardHead(parameters: model.parameters, dropout: nil)
              (deterministicOutput.baseAddress! + start * classes).update(
                from: workspace.probabilities.pointer,
                count: rows.count * classes
              )
            }
            head.run(
              features: workspace.convolution.features.floats,
              firstImage: start,
              imageCount: rows.count,
              totalImages: count,
              output: output.baseAddress!
            )
          }
        }
      }
    }
    return (deterministicOutput, Tensor(shape: [samples, count, classes], scalars: output))
  }

  private static func imageCount(
    _ images: Tensor,
    _ architecture: BayesianCNN.Architecture
  )
    -> Int
  {
    let pixels = architecture.pixelCount
    precondition(
      images.count % pixels == 0,
      "images \(images.shape) are not a whole number of \(pixels)-pixel images"
    )
    return images.count / pixels
  }
}

/// The inference workspaces of one prediction call, one per batch size it meets (the full
/// batch and the remainder), each loaded with the model's convolution parameters before the
/// first batch: the weights are reordered into oneDNN's layouts once per call, not per batch.
private struct InferenceWorkspaces {
  private let bySize: [Int: ModelWorkspace]

  init(_ engine: ComputeEngine, _ model: BayesianCNN, images: Int, batchSize: Int) throws {
    precondition(batchSize > 0, "batch size must be positive")
    let sizes = Set([min(batchSize, images), images % batchSize].filter { $0 > 0 })
    var bySize: [Int: ModelWorkspace] = [:]
    for size in sizes {
      let workspace = try engine.workspace(
        architecture: model.architecture,
        batch: size,
        training: false
      )
      try workspace.loadConvolutionParameters(model.parameters)
      bySize[size] = workspace
    }
    self.bySize = bySize
  }

  /// The loaded workspace for batches of `size` images.
  subscript(size: Int) -> ModelWorkspace {
    guard let workspace = bySize[size] else {
      preconditionFailure("no workspace prepared for batches of \(size)")
    }
    return workspace
  }
}

/// The stochastic head of the shared-features Monte Carlo path: for a block of images it runs
/// the ``DenseHead`` once on the `T` stacked copies of every feature row (`[T·m, F]`, row
/// `t·m + i` holding image `i` under the masks of pass `t`), so each dense layer is one matrix
/// product, and scatters the probabilities into `[T, N, C]`.
private final class MonteCarloHead {
  private let model: BayesianCNN
  private let samples: Int
  private let seed: UInt64
  private let imagesPerBlock: Int
  private let head: DenseHead
  /// Consistent masks: per pass `t`, the mask of the features (`[F]`, row `t`) and of the
  /// hidden units (`[H]`), 0 or `1 / (1 - rate)`; empty for independent masks.
  private let featureMasks: [[Float]]
  private let hiddenMasks: [[Float]]
  /// The parameters of the pass being run, with masked weight columns (consistent masks).
  private var masked: ModelParameters

  init(model: BayesianCNN, samples: Int, rowBudget: Int, seed: UInt64, masks: MonteCarloMasks) {
    self.model = model
    self.samples = samples
    self.seed = seed
    imagesPerBlock = max(1, rowBudget / samples)
    head = DenseHead(
      architecture: model.architecture,
      capacity: imagesPerBlock * samples,
      training: false
    )
    let a = model.architecture
    let passes = masks == .consistent ? samples : 0
    featureMasks = (0..<passes).map {
      Self.consistentMask($0, layer: 0, units: a.featureCount, rate: a.featureDropout, seed: seed)
    }
    hiddenMasks = (0..<passes).map {
      Self.consistentMask($0, layer: 1, units: a.hiddenUnits, rate: a.hiddenDropout, seed: seed)
    }
    masked = model.parameters
  }

  /// The mask every image gets in consistent pass `sample`: the one ``DenseHead/DropoutAssignment``
  /// gives image row 0 of that pass.
  static func consistentMask(
    _ sample: Int,
    layer: Int,
    units: Int,
    rate: Float,
    seed: UInt64
  )
    -> [Float]
  {
    var mask = [Float](repeating: 0, count: units)
    var generator = DropoutMaskSampler.rowGenerator(
      seed: seed,
      layer: layer,
      sample: sample,
      row: 0
    )
    mask.withUnsafeMutableBufferPointer { mask in
      DropoutMaskSampler(rate: rate).fill(mask.baseAddress!, count: units, generator: &generator)
    }
    return mask
  }

  /// Loads pass `sample`'s masks into ``masked``: `(x ∘ m) · Wᵀ = x · (W ∘ 1mᵀ)ᵀ`, so dropping
  /// input unit `j` is zeroing (or scaling) column `j` of the layer's weight `[out, in]`.
  private func loadConsistentPass(_ sample: Int) {
    func mask(_ weight: inout Tensor, _ source: Tensor, _ units: [Float]) {
      let inputs = units.count
      source.withUnsafeBufferPointer { source in
        weight.withUnsafeMutableBufferPointer { weight in
          for row in 0..<(weight.count / inputs) {
            for column in 0..<inputs {
              weight[row * inputs + column] = source[row * inputs + column] * units[column]
            }
          }
        }
      }
    }
    mask(&masked.fc1Weight, model.parameters.fc1Weight, featureMasks[sample])
    mask(&masked.fc2Weight, model.parameters.fc2Weight, hiddenMasks[sample])
  }

  /// Writes `[T, ·, C]` probabilities of images `firstImage..<firstImage+imageCount` (whose
  /// features `[imageCount, F]` are given) into `output` (`[T, totalImages, C]`).
  func run(
    features: UnsafeMutablePointer<Float>,
    firstImage: Int,
    imageCount: Int,
    totalImages: Int,
    output: UnsafeMutablePointer<Float>
  ) {
    let c = model.architecture.classCount
    if !featureMasks.isEmpty {
      // Consistent masks: per pass, the weights masked once, then every image of the batch
      // through them.
      for sample in 0..<samples {
        loadConsistentPass(sample)
        for blockStart in stride(from: 0, to: imageCount, by: head.capacity) {
          let m = min(head.capacity, imageCount - blockStart)
          head.forward(
            parameters: masked,
            features: UnsafePointer(features + blockStart * model.architecture.featureCount),
            rows: m,
            dropout: nil
          )
          (output + (sample * totalImages + firstImage + blockStart) * c).update(
            from: head.probabilities.pointer,
            count: m * c
          )
        }
      }
      return
    }
    for blockStart in stride(from: 0, to: imageCount, by: imagesPerBlock) {
      let m = min(imagesPerBlock, imageCount - blockStart)
      let rows = samples * m
      head.forward(
        parameters: model.parameters,
        features: UnsafePointer(features),
        rows: rows,
        dropout: DenseHead.DropoutAssignment(
          seed: seed,
          rowsPerSample: m,
          firstMaskRow: firstImage + blockStart,
          firstFeatureRow: blockStart
        )
      )
      for row in 0..<rows {
        let (sample, image) = row.quotientAndRemainder(dividingBy: m)
        let target = output + (sample * totalImages + firstImage + blockStart + image) * c
        target.update(from: head.probabilities.pointer + row * c, count: c)
      }
    }
  }
}
