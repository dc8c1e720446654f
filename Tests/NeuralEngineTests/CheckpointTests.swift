import Foundation
import HDF5Store
import TestSupport
import Testing

@testable import NeuralEngine

@Suite struct CheckpointTests {
  static let architecture = TrainingTests.architecture

  @Test func roundTripPreservesEverything() throws {
    let directory = try TestSupport.temporaryDirectory("engine-checkpoint")
    defer { try? FileManager.default.removeItem(at: directory) }
    let (images, labels) = TrainingTests.data(21)
    var state = TrainingState(architecture: Self.architecture, generator: SeededGenerator(seed: 60))
    try ComputeEngine().train(
      &state,
      images: images,
      labels: labels,
      configuration: TrainingConfiguration(epochs: 1, batchSize: 8)
    )
    let path = directory.appendingPathComponent("state.h5").path
    let file = try HDF5File.create(path)
    try state.write(to: file)
    try file.close()
    let loaded = try TrainingState(
      readingFrom: HDF5File.open(path, mode: .readOnly),
      architecture: Self.architecture
    )
    #expect(loaded == state)
  }

  /// Training resumed from a checkpoint file matches uninterrupted training bit for bit.
  @Test func resumingFromAFileIsBitIdentical() throws {
    let directory = try TestSupport.temporaryDirectory("engine-resume")
    defer { try? FileManager.default.removeItem(at: directory) }
    let (images, labels) = TrainingTests.data(21)
    let configuration = TrainingTests.configuration
    var uninterrupted = TrainingState(
      architecture: Self.architecture,
      generator: SeededGenerator(seed: 61)
    )
    try ComputeEngine().train(
      &uninterrupted,
      images: images,
      labels: labels,
      configuration: configuration
    )

    let path = directory.appendingPathComponent("epoch.h5").path
    var state = TrainingState(architecture: Self.architecture, generator: SeededGenerator(seed: 61))
    try ComputeEngine().train(&state, images: images, labels: labels, configuration: configuration)
    { report in
      guard report.completedEpochs == 1 else { return .proceed }
      let file = try HDF5File.create(path)
      try report.state.write(to: file)
      try file.close()
      return .stop
    }
    var resumed = try TrainingState(
      readingFrom: HDF5File.open(path, mode: .readOnly),
      architecture: Self.architecture
    )
    #expect(resumed.completedEpochs == 1)
    try ComputeEngine().train(
      &resumed,
      images: images,
      labels: labels,
      configuration: configuration
    )
    #expect(resumed == uninterrupted)
  }

  @Test func weightsOnlyFileLoadsAsModel() throws {
    let directory = try TestSupport.temporaryDirectory("engine-weights")
    defer { try? FileManager.default.removeItem(at: directory) }
    var generator = SeededGenerator(seed: 62)
    let model = BayesianCNN(generator: &generator)
    let path = directory.appendingPathComponent("weights.h5").path
    let file = try HDF5File.create(path)
    try model.write(to: file)
    try file.close()
    let reader = try HDF5File.open(path, mode: .readOnly)
    #expect(try BayesianCNN(readingFrom: reader) == model)
    #expect(try reader.info("fc1.weight").shape == [128, 3872])
    // A weights-only file is not a training state: the error names the missing dataset.
    #expect(
      throws: NeuralEngineError.missingDataset(
        file: path,
        dataset: "adam/step",
        expectedShape: []
      )
    ) {
      try TrainingState(readingFrom: reader)
    }
  }

  @Test func badCheckpointsAreRejectedWithTheDatasetNamed() throws {
    let directory = try TestSupport.temporaryDirectory("engine-bad")
    defer { try? FileManager.default.removeItem(at: directory) }
    var generator = SeededGenerator(seed: 63)
    let model = BayesianCNN(generator: &generator)

    let missing = directory.appendingPathComponent("missing.h5").path
    let missingFile = try HDF5File.create(missing)
    for name in ModelParameters.names where name != "conv2.bias" {
      try missingFile.write(
        model.parameters[name].scalars,
        shape: model.parameters[name].shape,
        to: name
      )
    }
    try missingFile.close()
    #expect(
      throws: NeuralEngineError.missingDataset(
        file: missing,
        dataset: "conv2.bias",
        expectedShape: [32]
      )
    ) {
      try BayesianCNN(readingFrom: HDF5File.open(missing, mode: .readOnly))
    }

    let misshapen = directory.appendingPathComponent("shape.h5").path
    let misshapenFile = try HDF5File.create(misshapen)
    for name in ModelParameters.names {
      let tensor = model.parameters[name]
      let shape = name == "fc1.weight" ? [3872, 128] : tensor.shape  // transposed
      try misshapenFile.write(tensor.scalars, shape: shape, to: name)
    }
    try misshapenFile.close()
    let error = #expect(throws: NeuralEngineError.self) {
      try BayesianCNN(readingFrom: HDF5File.open(misshapen, mode: .readOnly))
    }
    #expect(
      error
        == .shapeMismatch(
          file: misshapen,
          dataset: "fc1.weight",
          expected: [128, 3872],
          found: [3872, 128]
        )
    )
    #expect(error?.description.contains("fc1.weight") == true)
  }

  @Test(arguments: [Float.nan, .infinity, -.infinity])
  func nonFiniteWeightsAreRejectedWithTheDatasetAndIndex(bad: Float) throws {
    let directory = try TestSupport.temporaryDirectory("engine-nonfinite")
    defer { try? FileManager.default.removeItem(at: directory) }
    var generator = SeededGenerator(seed: 64)
    var model = BayesianCNN(generator: &generator)
    model.parameters.fc1Weight.withUnsafeMutableBufferPointer { $0[4097] = bad }
    let path = directory.appendingPathComponent("nan.h5").path
    let file = try HDF5File.create(path)
    try model.write(to: file)
    try file.close()
    let error = #expect(throws: NeuralEngineError.self) {
      try BayesianCNN(readingFrom: HDF5File.open(path, mode: .readOnly))
    }
    let text = error?.description ?? ""
    #expect(text.contains("fc1.weight") && text.contains("element 4097") && text.contains("finite"))
  }

  @Test func pyTorchCheckpointsLoadFromFloat64AndUnderTheDataParallelPrefix() throws {
    let directory = try TestSupport.temporaryDirectory("engine-pytorch")
    var generator = SeededGenerator(seed: 65)
    let model = BayesianCNN(generator: &generator)
    // Written as a PyTorch user would: float64 tensors under "module.".
    let path = directory.appendingPathComponent("torch.h5").path
    let file = try HDF5File.create(path)
    for name in ModelParameters.names {
      let tensor = model.parameters[name]
      try file.write(tensor.scalars.map(Double.init), shape: tensor.shape, to: "module." + name)
    }
    try file.close()
    var notes: [String] = []
    let loaded = try BayesianCNN(readingFrom: HDF5File.open(path)) { notes.append($0) }
    #expect(loaded == model, "float32 -> float64 -> float32 is exact")
    #expect(notes.count == 2 && notes.contains { $0.contains("module.") })
    #expect(notes.contains { $0.contains("float64") }, "said once, not once per tensor")
  }

  #if !((os(macOS) || targetEnvironment(macCatalyst)) && arch(x86_64))
    /// Writes `model`'s parameters as IEEE halves, as h5py saves a `model.half()` state dict,
    /// the ones in `asDouble` as float64; returns the halves written.
    static func writeHalves(
      _ model: BayesianCNN,
      to path: String,
      asDouble: Set<String> = []
    ) throws -> [String: [Float16]] {
      let file = try HDF5File.create(path)
      var halves: [String: [Float16]] = [:]
      for name in ModelParameters.names {
        let tensor = model.parameters[name]
        if asDouble.contains(name) {
          try file.write(tensor.scalars.map(Double.init), shape: tensor.shape, to: name)
        } else {
          halves[name] = tensor.scalars.map { Float16($0) }
          try file.write(halves[name]!, shape: tensor.shape, to: name)
        }
      }
      try file.close()
      return halves
    }

    @Test func float16CheckpointsLoadExactlyAsTheirHalvesAndSaySoOnce() throws {
      let directory = try TestSupport.temporaryDirectory("engine-half")
      var generator = SeededGenerator(seed: 67)
      let model = BayesianCNN(generator: &generator)
      let path = directory.appendingPathComponent("half.h5").path
      let halves = try Self.writeHalves(model, to: path)
      #expect(try HDF5File.open(path).info("fc1.weight").elementType == .float16)

      var notes: [String] = []
      let loaded = try BayesianCNN(readingFrom: HDF5File.open(path)) { notes.append($0) }
      for name in ModelParameters.names {
        // Each weight is its float16-rounded original, widened exactly (subnormals included).
        #expect(loaded.parameters[name].scalars == halves[name]!.map(Float.init), "\(name)")
      }
      #expect(loaded != model, "the halves are rounded: a silent no-op would be caught")
      #expect(
        notes == ["converting float16 weights to float32 (the engine computes in float32)"],
        "said once for the 8 tensors"
      )

      // float64 and float16 in one file: each conversion is said once.
      let mixed = directory.appendingPathComponent("mixed.h5").path
      _ = try Self.writeHalves(model, to: mixed, asDouble: ["conv1.weight", "fc2.bias"])
      notes = []
      _ = try BayesianCNN(readingFrom: HDF5File.open(mixed)) { notes.append($0) }
      #expect(notes.count == 2)
      #expect(notes.filter { $0.contains("float64") }.count == 1)
      #expect(notes.filter { $0.contains("float16") }.count == 1)
    }

    /// A weight beyond float16's range (65504) is stored as infinity: the non-finite check
    /// refuses it, naming the dataset and the element.
    @Test func float16WeightsThatOverflowedAreRefused() throws {
      let directory = try TestSupport.temporaryDirectory("engine-half-overflow")
      var generator = SeededGenerator(seed: 68)
      var model = BayesianCNN(generator: &generator)
      model.parameters.fc1Weight.withUnsafeMutableBufferPointer { $0[4097] = -70_000 }
      let path = directory.appendingPathComponent("overflow.h5").path
      let halves = try Self.writeHalves(model, to: path)
      #expect(halves["fc1.weight"]![4097] == -.infinity)
      let error = #expect(throws: NeuralEngineError.self) {
        try BayesianCNN(readingFrom: HDF5File.open(path))
      }
      let text = error?.description ?? ""
      #expect(text.contains("fc1.weight") && text.contains("element 4097 (row-major) is -inf"))
      #expect(text.contains("must hold finite weights"))
    }
  #endif

  @Test func aMissingNameListsTheNearMisses() throws {
    let directory = try TestSupport.temporaryDirectory("engine-near")
    var generator = SeededGenerator(seed: 66)
    let model = BayesianCNN(generator: &generator)
    let path = directory.appendingPathComponent("near.h5").path
    let file = try HDF5File.create(path)
    for name in ModelParameters.names {
      let tensor = model.parameters[name]
      try file.write(tensor.scalars, shape: tensor.shape, to: "model/" + name)
    }
    try file.close()
    let error = #expect(throws: NeuralEngineError.self) {
      try BayesianCNN(readingFrom: HDF5File.open(path))
    }
    let text = error?.description ?? ""
    #expect(text.contains("no dataset 'conv1.weight'") && text.contains("model/conv1.weight"))
    #expect(text.contains("state_dict") && !text.contains("write(to:)"), "the fix in user terms")
  }
}
