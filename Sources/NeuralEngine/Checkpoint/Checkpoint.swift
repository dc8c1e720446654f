import HDF5Store

// MARK: - Layout
//
// A checkpoint is one HDF5 file:
//
//   /conv1.weight … /fc2.bias     the 8 parameters, float32, PyTorch names and shapes, so
//                                 `model.load_state_dict({k: torch.tensor(f[k][()]) for k in f
//                                 if '.' in k})` loads them in h5py + PyTorch
//   /adam/step                    int64 scalar
//   /adam/m/<name>, /adam/v/<name> float32, the parameter's shape
//   /generator/state              int64 [4], xoshiro256** words as bit patterns
//   /training/epoch               int64 scalar, finished epochs
//
// Readers validate presence, element type and shape of every dataset they need and name the
// dataset and the expected shape when one is wrong. A file with only the 8 parameters (e.g.
// written by another program) loads as a ``BayesianCNN``; its weights may also be float64 or
// float16 (IEEE half, h5py's `numpy.float16`), as PyTorch users save them, and are converted.

extension BayesianCNN {
  /// Writes the 8 parameters at the root of `file` with PyTorch names and shapes.
  public func write(to file: HDF5File) throws {
    for (name, tensor) in zip(ModelParameters.names, parameters.tensors) {
      try file.write(tensor.scalars, shape: tensor.shape, to: name)
    }
  }

  /// Reads the 8 parameters from the root of `file` (or under the `module.` prefix that
  /// PyTorch's DataParallel adds). float64 weights are rounded to float32 (to nearest, ties to
  /// even), float16 weights widened to float32 (exactly).
  ///
  /// - Parameter note: receives one line per kind of conversion made (the prefix, each stored
  ///   element type other than float32), however many tensors it applies to, so that a
  ///   command can say so once.
  /// - Throws: ``NeuralEngineError`` naming a missing (with near misses), mis-shaped, mistyped
  ///   or non-finite dataset, or `HDF5Error`.
  public init(
    readingFrom file: HDF5File,
    architecture: Architecture = .paper,
    note: (String) -> Void = { _ in }
  ) throws {
    let prefix =
      !file.exists(ModelParameters.names[0]) && file.exists("module." + ModelParameters.names[0])
      ? "module." : ""
    if !prefix.isEmpty { note("reading the weights under the DataParallel prefix 'module.'") }
    self.init(
      architecture: architecture,
      parameters: try ModelParameters(
        readingFrom: file,
        prefix: prefix,
        architecture: architecture,
        note: note
      )
    )
  }
}

extension TrainingState {
  /// Writes the complete state (parameters, Adam, generator, epoch) to `file`.
  public func write(to file: HDF5File) throws {
    try model.write(to: file)
    try file.write([Int64(optimizer.step)], shape: [], to: "adam/step")
    for (name, (m, v)) in zip(
      ModelParameters.names,
      zip(optimizer.firstMoment.tensors, optimizer.secondMoment.tensors)
    ) {
      try file.write(m.scalars, shape: m.shape, to: "adam/m/\(name)")
      try file.write(v.scalars, shape: v.shape, to: "adam/v/\(name)")
    }
    let configuration = optimizer.configuration
    try file.setAttribute("learning_rate", .double(Double(configuration.learningRate)), on: "adam")
    try file.setAttribute("beta1", .double(Double(configuration.beta1)), on: "adam")
    try file.setAttribute("beta2", .double(Double(configuration.beta2)), on: "adam")
    try file.setAttribute("epsilon", .double(Double(configuration.epsilon)), on: "adam")
    try file.write(
      generator.state.map { Int64(bitPattern: $0) },
      shape: [4],
      to: "generator/state"
    )
    try file.write([Int64(completedEpochs)], shape: [], to: "training/epoch")
  }

  /// Reads a state written by ``write(to:)``; training it continues bit-identically.
  ///
  /// - Parameter configuration: Adam's hyper-parameters (the file records them as attributes
  ///   of `/adam` for provenance; the caller's configuration is authoritative).
  /// - Throws: ``NeuralEngineError`` naming a missing, mis-typed or mis-shaped dataset.
  public init(
    readingFrom file: HDF5File,
    architecture: BayesianCNN.Architecture = .paper,
    optimizer configuration: Adam.Configuration = Adam.Configuration()
  ) throws {
    let model = try BayesianCNN(readingFrom: file, architecture: architecture)
    let step = try Self.readIntegers(file, "adam/step", shape: [])[0]
    let optimizer = Adam(
      configuration: configuration,
      step: Int(step),
      firstMoment: try ModelParameters(
        readingFrom: file,
        prefix: "adam/m/",
        architecture: architecture
      ),
      secondMoment: try ModelParameters(
        readingFrom: file,
        prefix: "adam/v/",
        architecture: architecture
      )
    )
    let words = try Self.readIntegers(file, "generator/state", shape: [4]).map {
      UInt64(bitPattern: $0)
    }
    guard words.contains(where: { $0 != 0 }) else {
      throw NeuralEngineError.invalidValue(
        file: file.path,
        dataset: "generator/state",
        reason: "all four words are zero"
      )
    }
    let epoch = try Self.readIntegers(file, "training/epoch", shape: [])[0]
    guard step >= 0, epoch >= 0 else {
      throw NeuralEngineError.invalidValue(
        file: file.path,
        dataset: step < 0 ? "adam/step" : "training/epoch",
        reason: "negative count"
      )
    }
    self.init(
      model: model,
      optimizer: optimizer,
      generator: SeededGenerator(state: words),
      completedEpochs: Int(epoch)
    )
  }

  private static func readIntegers(
    _ file: HDF5File,
    _ dataset: String,
    shape: [Int]
  ) throws
    -> [Int64]
  {
    try validate(file, dataset, shape: shape, elementType: .int64)
    return try file.read(dataset, as: Int64.self).values
  }
}

extension ModelParameters {
  /// Reads the 8 tensors stored at `prefix + name`, validating each (float64 and float16 are
  /// converted to float32).
  init(
    readingFrom file: HDF5File,
    prefix: String,
    architecture: BayesianCNN.Architecture,
    note: (String) -> Void = { _ in }
  ) throws {
    self.init(zerosFor: architecture)
    var converted: Set<HDF5ElementType> = []
    for (name, shape) in zip(Self.names, architecture.parameterShapes) {
      let dataset = prefix + name
      // float64 and float16 are read and converted; anything else must be float32.
      var elementType = HDF5ElementType.float32
      if file.exists(dataset), let stored = try? file.info(dataset).elementType,
        stored == .float64 || stored == .float16
      {
        elementType = stored
      }
      try validate(file, dataset, shape: shape, elementType: elementType)
      let scalars: [Float]
      switch elementType {
      // Swift rounds to nearest-even; HDF5's own narrowing does not quite (see HDF5Store).
      case .float64: scalars = try file.read(dataset, as: Double.self).values.map { Float($0) }
      // Exact: HDF5 widens each half to the float32 of the same value.
      case .float16: scalars = try file.read(dataset, wideningTo: Float.self).values
      default: scalars = try file.read(dataset, as: Float.self).values
      }
      if elementType != .float32, converted.insert(elementType).inserted {
        note(
          "converting \(elementType.rawValue) weights to float32 (the engine computes in float32)"
        )
      }
      if let bad = scalars.firstIndex(where: { !$0.isFinite }) {
        throw NeuralEngineError.invalidValue(
          file: file.path,
          dataset: dataset,
          reason: "element \(bad) (row-major) is \(scalars[bad]); a checkpoint must hold finite "
            + "weights. Retrain the model, or restore the file from a copy"
        )
      }
      self[name] = Tensor(shape: shape, scalars: scalars)
    }
  }
}

/// Throws a ``NeuralEngineError`` unless `dataset` exists with `shape` and `elementType`.
private func validate(
  _ file: HDF5File,
  _ dataset: String,
  shape: [Int],
  elementType: HDF5ElementType
) throws {
  guard file.exists(dataset) else {
    let wanted = dataset.split(separator: ".").suffix(2).joined(separator: ".")
    let simplified = { (name: String) in
      name.lowercased().filter { $0.isLetter || $0.isNumber }
    }
    let nearMisses = ((try? file.datasetPaths()) ?? []).filter { path in
      let name = String(path.drop { $0 == "/" })
      return name.hasSuffix(wanted) || simplified(name).hasSuffix(simplified(wanted))
    }
    throw NeuralEngineError.missingDataset(
      file: file.path,
      dataset: dataset,
      expectedShape: shape,
      nearMisses: nearMisses.sorted()
    )
  }
  let info = try file.info(dataset)
  guard info.elementType == elementType else {
    // Weights are read as float32, or converted from float64 and float16 (PyTorch's
    // `model.double()` and `model.half()`): say so, so that the fix is the user's choice.
    let expected =
      elementType == .int64
      ? elementType.rawValue : "float32 (float64 and float16 are also read, and converted)"
    throw NeuralEngineError.typeMismatch(
      file: file.path,
      dataset: dataset,
      expected: expected,
      found: info.elementType.rawValue
    )
  }
  guard info.shape == shape else {
    throw NeuralEngineError.shapeMismatch(
      file: file.path,
      dataset: dataset,
      expected: shape,
      found: info.shape
    )
  }
}
