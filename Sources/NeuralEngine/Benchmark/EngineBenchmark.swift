/// One timed workload of ``EngineBenchmark``.
public struct BenchmarkResult: Sendable, Hashable, Codable {
  /// Workload name: `train_1000`, `train_20`, `score_mc_fast`, `score_mc_naive`,
  /// `evaluate_10k` or `gemm_reference`.
  public var name: String
  /// Wall-clock seconds of one run.
  public var seconds: Double
  /// Work items per second (image-epochs, images·T, images, or GEMMs; see ``itemUnit``).
  public var itemsPerSecond: Double
  /// What one item is.
  public var itemUnit: String
  /// Floating-point operations per second, in units of 10^9, from the analytic FLOP count
  /// (0 where none is counted).
  public var gflops: Double

  /// Creates a result from its values.
  public init(
    name: String,
    seconds: Double,
    itemsPerSecond: Double,
    itemUnit: String,
    gflops: Double
  ) {
    self.name = name
    self.seconds = seconds
    self.itemsPerSecond = itemsPerSecond
    self.itemUnit = itemUnit
    self.gflops = gflops
  }
}

/// Times the engine on the paper's workloads with random data of MNIST shape.
///
/// **FLOP counts** (one multiply-add = 2 FLOP; per image, paper model):
/// - forward `F = 2·(conv1 + conv2 + fc1 + fc2 MACs)` with conv MACs `C_out·C_in·k²·S_out²`
///   and dense MACs `in·out`: 2·(320,000 + 7,929,856 + 495,616 + 1,280) = 17,493,504;
/// - training `3F − 2·conv1 MACs` (weight and input gradients cost a forward each; conv1 needs
///   no input gradient) = 51,840,512;
/// - fast MC `conv part + T·head part` (conv part 16,499,712, head part 993,792);
///   naive MC `T·F`; GEMM `2n³`. Element-wise work (pool, ReLU, masks) is not counted.
public enum EngineBenchmark {
  /// The names of the workloads ``run(mcSamples:poolSize:epochs:gemmSize:workloads:activationLayout:)``
  /// measures, in the order it runs them.
  public static let workloadNames = [
    "train_1000", "train_20", "score_mc_fast", "score_mc_naive", "evaluate_10k", "gemm_reference",
  ]

  /// Runs the selected workloads once each (after a small warm-up that builds the primitives).
  ///
  /// - Parameters:
  ///   - mcSamples: `T` for the Monte Carlo scoring workloads.
  ///   - poolSize: images scored by the MC workloads.
  ///   - epochs: epochs of the training workloads.
  ///   - gemmSize: `n` of the square reference GEMM.
  ///   - workloads: names to run (default all).
  ///   - activationLayout: the convolutions' activation layout (``ComputeEngine/init(activationLayout:)``).
  public static func run(
    mcSamples: Int = 100,
    poolSize: Int = 2000,
    epochs: Int = 50,
    gemmSize: Int = 2048,
    workloads: Set<String>? = nil,
    activationLayout: ActivationLayoutPreference = .chosenByOneDNN
  ) throws -> [BenchmarkResult] {
    let engine = try ComputeEngine(activationLayout: activationLayout)
    let architecture = BayesianCNN.Architecture.paper
    let flops = FLOPCount(architecture)
    var generator = SeededGenerator(root: 0, path: ["benchmark"])
    let model = BayesianCNN(generator: &generator)
    func images(_ count: Int) -> Tensor {
      Tensor(
        shape: [
          count, architecture.inputChannels, architecture.imageSize, architecture.imageSize,
        ],
        scalars: (0..<(count * architecture.pixelCount)).map { _ in generator.nextUniformFloat() }
      )
    }
    func wanted(_ name: String) -> Bool { workloads?.contains(name) ?? true }
    var results: [BenchmarkResult] = []

    for count in [1000, 20] where wanted("train_\(count)") {
      let data = images(count)
      let labels = (0..<count).map { $0 % 10 }
      let configuration = TrainingConfiguration(epochs: epochs)
      var warmGenerator = generator
      _ = try engine.train(
        images: data,
        labels: labels,
        configuration: TrainingConfiguration(epochs: 1),
        generator: &warmGenerator
      )
      let seconds = try time {
        _ = try engine.train(
          images: data,
          labels: labels,
          configuration: configuration,
          generator: &generator
        )
      }
      let items = Double(count * epochs)
      results.append(
        BenchmarkResult(
          name: "train_\(count)",
          seconds: seconds,
          itemsPerSecond: items / seconds,
          itemUnit: "image-epochs",
          gflops: items * flops.training / seconds / 1e9
        )
      )
    }

    let pool = images(poolSize)
    for (name, strategy) in [
      ("score_mc_fast", MonteCarloStrategy.sharedFeatures), ("score_mc_naive", .fullPasses),
    ] where wanted(name) {
      _ = try engine.predictMonteCarlo(
        model,
        images: images(256),
        samples: 2,
        generator: &generator,
        strategy: strategy
      )
      let seconds = try time {
        _ = try engine.predictMonteCarlo(
          model,
          images: pool,
          samples: mcSamples,
          generator: &generator,
          strategy: strategy
        )
      }
      let items = Double(poolSize * mcSamples)
      let total =
        strategy == .sharedFeatures
        ? Double(poolSize) * flops.convolutions + items * flops.head : items * flops.forward
      results.append(
        BenchmarkResult(
          name: name,
          seconds: seconds,
          itemsPerSecond: items / seconds,
          itemUnit: "images·T",
          gflops: total / seconds / 1e9
        )
      )
    }

    if wanted("evaluate_10k") {
      let test = images(10_000)
      _ = try engine.predictProbabilities(model, images: images(256))
      let seconds = try time { _ = try engine.predictProbabilities(model, images: test) }
      results.append(
        BenchmarkResult(
          name: "evaluate_10k",
          seconds: seconds,
          itemsPerSecond: 10_000 / seconds,
          itemUnit: "images",
          gflops: 10_000 * flops.forward / seconds / 1e9
        )
      )
    }

    if wanted("gemm_reference") {
      let n = gemmSize
      let a = (0..<(n * n)).map { _ in generator.nextUniformFloat() }
      let b = (0..<(n * n)).map { _ in generator.nextUniformFloat() }
      var c = [Float](repeating: 0, count: n * n)
      func multiply() {
        c.withUnsafeMutableBufferPointer { c in
          Matrix.multiply(
            transposeA: false,
            transposeB: false,
            m: n,
            n: n,
            k: n,
            a: a,
            lda: n,
            b: b,
            ldb: n,
            beta: 0,
            c: c.baseAddress!,
            ldc: n
          )
        }
      }
      multiply()
      let repetitions = 5
      let seconds = try time { for _ in 0..<repetitions { multiply() } } / Double(repetitions)
      results.append(
        BenchmarkResult(
          name: "gemm_reference",
          seconds: seconds,
          itemsPerSecond: 1 / seconds,
          itemUnit: "GEMMs \(n)³",
          gflops: 2 * Double(n) * Double(n) * Double(n) / seconds / 1e9
        )
      )
    }
    return results
  }

  /// Seconds `body` takes on the continuous clock.
  private static func time(_ body: () throws -> Void) throws -> Double {
    let clock = ContinuousClock()
    let start = clock.now
    try body()
    let elapsed = start.duration(to: clock.now).components
    return Double(elapsed.seconds) + Double(elapsed.attoseconds) * 1e-18
  }
}

/// Analytic FLOP counts per image (one multiply-add = 2 FLOP).
struct FLOPCount {
  /// Forward FLOPs of conv1 + conv2 (the part the fast MC path runs once).
  let convolutions: Double
  /// Forward FLOPs of fc1 + fc2 (the part the fast MC path runs T times).
  let head: Double
  /// conv1 multiply-adds (its input needs no gradient).
  let firstConvolutionMACs: Double

  init(_ architecture: BayesianCNN.Architecture) {
    let (c, k, cin) = (
      Double(architecture.convolutionChannels), Double(architecture.kernelSize),
      Double(architecture.inputChannels)
    )
    let s1 = Double(architecture.imageSize - architecture.kernelSize + 1)
    let s2 = s1 - k + 1
    firstConvolutionMACs = c * cin * k * k * s1 * s1
    convolutions = 2 * (firstConvolutionMACs + c * c * k * k * s2 * s2)
    let (f, h, classes) = (
      Double(architecture.featureCount), Double(architecture.hiddenUnits),
      Double(architecture.classCount)
    )
    head = 2 * (f * h + h * classes)
  }

  /// One forward pass.
  var forward: Double { convolutions + head }
  /// One training image: forward + weight gradients + input gradients (none for conv1).
  var training: Double { 3 * forward - 2 * firstConvolutionMACs }
}
