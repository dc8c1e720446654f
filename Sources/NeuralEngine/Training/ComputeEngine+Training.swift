extension ComputeEngine {
  // MARK: - Training

  /// Trains `state` for the epochs it has not finished yet (`configuration.epochs -
  /// state.completedEpochs`).
  ///
  /// Each epoch shuffles the training set with `state.generator` (Fisher–Yates), then runs
  /// minibatches of `configuration.batchSize` (the last partial batch kept or dropped as
  /// `configuration.lastBatch` says), each with
  /// dropout masks seeded by one draw from the generator, followed by one Adam step. After each
  /// epoch `onEpoch` receives the state; answering ``TrainingDecision/stop`` returns early, and
  /// training that state again later continues bit-identically.
  ///
  /// - Parameters:
  ///   - images: `[N, Cin, S, S]` (or any shape with `N` leading and `Cin·S·S` per image).
  ///   - labels: `N` class indices in `0..<classCount`.
  /// - Returns: whether all epochs finished (false if the callback stopped training).
  @discardableResult
  public func train(
    _ state: inout TrainingState,
    images: Tensor,
    labels: [Int],
    configuration: TrainingConfiguration,
    onEpoch: (EpochReport) throws -> TrainingDecision = { _ in .proceed }
  ) throws -> Bool {
    let architecture = state.model.architecture
    let count = labels.count
    precondition(count > 0, "training needs at least one image")
    precondition(
      images.count == count * architecture.pixelCount,
      "images \(images.shape) do not hold \(count) images of \(architecture.pixelCount) pixels"
    )
    precondition(
      labels.allSatisfy { (0..<architecture.classCount).contains($0) },
      "labels must lie in 0..<\(architecture.classCount)"
    )
    let labels32 = labels.map { Int32($0) }
    let penalty = configuration.penalty(trainingSetSize: count)
    var gradients = ModelParameters(zerosFor: architecture)
    while state.completedEpochs < configuration.epochs {
      // Each epoch permutes the identity afresh, so an epoch's order depends only on the
      // generator state (which checkpoints carry), not on earlier epochs' orders.
      var order = Array(0..<count)
      Self.shuffle(&order, using: &state.generator)
      var lossSum = 0.0
      var batches = 0
      for range in configuration.batches(count: count) {
        let rows = order[range]
        let workspace = try self.workspace(
          architecture: architecture,
          batch: rows.count,
          training: true
        )
        images.withUnsafeBufferPointer { workspace.load(images: $0, rows: rows, labels: labels32) }
        try workspace.loadConvolutionParameters(state.model.parameters)
        let maskSeed = state.generator.next()
        lossSum += try workspace.trainingStep(
          parameters: state.model.parameters,
          penalty: penalty,
          maskSeed: maskSeed,
          gradients: &gradients
        )
        state.optimizer.update(&state.model.parameters, along: gradients)
        batches += 1
      }
      state.completedEpochs += 1
      let report = EpochReport(
        completedEpochs: state.completedEpochs,
        totalEpochs: configuration.epochs,
        meanLoss: lossSum / Double(batches),
        state: state
      )
      if try onEpoch(report) == .stop { return state.completedEpochs >= configuration.epochs }
    }
    return true
  }

  /// Trains a fresh model: initialises it from `generator`, then trains with the same
  /// generator (advanced past every draw used, so callers can keep drawing from it).
  public func train(
    images: Tensor,
    labels: [Int],
    configuration: TrainingConfiguration = TrainingConfiguration(),
    architecture: BayesianCNN.Architecture = .paper,
    generator: inout SeededGenerator
  ) throws -> BayesianCNN {
    var state = TrainingState(
      architecture: architecture,
      optimizer: configuration.optimizer,
      generator: generator
    )
    try train(&state, images: images, labels: labels, configuration: configuration)
    generator = state.generator
    return state.model
  }

  /// Fisher–Yates with a defined draw sequence (one 64-bit draw per position, reduced modulo
  /// the range; the bias is below 2^-40 for any realistic data set), so shuffles are stable
  /// across Swift versions, unlike `shuffle(using:)`.
  static func shuffle(_ order: inout [Int], using generator: inout SeededGenerator) {
    guard order.count > 1 else { return }
    for position in stride(from: order.count - 1, to: 0, by: -1) {
      let other = Int(generator.next() % UInt64(position + 1))
      order.swapAt(position, other)
    }
  }
}
