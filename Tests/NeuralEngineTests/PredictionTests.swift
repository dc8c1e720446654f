import TestSupport
import Testing

@testable import NeuralEngine

@Suite struct PredictionTests {
  static let architecture = BayesianCNN.Architecture.paper

  static func randomImages(_ count: Int, seed: UInt64) -> Tensor {
    var generator = SeededGenerator(seed: seed)
    return Tensor(
      shape: [count, 1, 28, 28],
      scalars: (0..<(count * 784)).map { _ in generator.nextUniformFloat() }
    )
  }

  /// An engine, a paper model initialised from `modelSeed`, and `imageCount` random images.
  static func fixture(
    modelSeed: UInt64,
    imageCount: Int,
    imageSeed: UInt64
  ) throws -> (ComputeEngine, BayesianCNN, Tensor) {
    var generator = SeededGenerator(seed: modelSeed)
    return (
      try ComputeEngine(),
      BayesianCNN(generator: &generator),
      randomImages(imageCount, seed: imageSeed)
    )
  }

  /// Shared-features MC and T full passes draw the same masks, so they agree (up to GEMM
  /// summation order); chunk and batch sizes are chosen so that blocks straddle batches.
  @Test func sharedFeaturesMatchesFullPasses() throws {
    let (engine, model, images) = try Self.fixture(modelSeed: 40, imageCount: 37, imageSeed: 41)
    var fastGenerator = SeededGenerator(seed: 42)
    var naiveGenerator = fastGenerator
    let fast = try engine.predictMonteCarlo(
      model,
      images: images,
      samples: 5,
      generator: &fastGenerator,
      strategy: .sharedFeatures,
      batchSize: 16,
      headRows: 15
    )
    let naive = try engine.predictMonteCarlo(
      model,
      images: images,
      samples: 5,
      generator: &naiveGenerator,
      strategy: .fullPasses,
      batchSize: 16
    )
    #expect(fast.shape == [5, 37, 10])
    #expect(firstMismatch(fast.scalars, naive.scalars, absolute: 1e-6, relative: 1e-4) == nil)
    #expect(fastGenerator == naiveGenerator)
    // The passes really differ from each other (dropout is on).
    let firstPass = Array(fast.scalars[0..<370])
    let secondPass = Array(fast.scalars[370..<740])
    #expect(firstMismatch(firstPass, secondPass, absolute: 1e-4, relative: 1e-3) != nil)
    // Each row is a probability distribution.
    for row in 0..<(5 * 37) {
      let sum = fast.scalars[(row * 10)..<(row * 10 + 10)].reduce(0, +)
      #expect(abs(sum - 1) < 1e-5)
    }
  }

  /// With both dropout rates 0, a Monte Carlo pass is the deterministic network.
  @Test(arguments: [MonteCarloStrategy.sharedFeatures, .fullPasses])
  func monteCarloWithoutDropoutIsDeterministic(strategy: MonteCarloStrategy) throws {
    let engine = try ComputeEngine()
    var generator = SeededGenerator(seed: 43)
    var architecture = Self.architecture
    architecture.featureDropout = 0
    architecture.hiddenDropout = 0
    let model = BayesianCNN(architecture: architecture, generator: &generator)
    let images = Self.randomImages(20, seed: 44)
    let deterministic = try engine.predictProbabilities(model, images: images, batchSize: 8)
    let monteCarlo = try engine.predictMonteCarlo(
      model,
      images: images,
      samples: 2,
      generator: &generator,
      strategy: strategy,
      batchSize: 8
    )
    #expect(deterministic.shape == [20, 10])
    #expect(
      firstMismatch(Array(monteCarlo.scalars[0..<200]), deterministic.scalars, absolute: 1e-6)
        == nil
    )
    #expect(
      firstMismatch(Array(monteCarlo.scalars[200..<400]), deterministic.scalars, absolute: 1e-6)
        == nil
    )
  }

  /// Batch size does not change deterministic predictions.
  @Test func deterministicPredictionIsIndependentOfBatching() throws {
    let (engine, model, images) = try Self.fixture(modelSeed: 45, imageCount: 30, imageSeed: 46)
    let whole = try engine.predictProbabilities(model, images: images, batchSize: 30)
    let pieces = try engine.predictProbabilities(model, images: images, batchSize: 7)
    #expect(firstMismatch(whole.scalars, pieces.scalars, absolute: 1e-6, relative: 1e-5) == nil)
  }

  /// The weights are reordered into oneDNN's layouts once per call and batch size (the full
  /// batch and the remainder, both before the first batch), never once per batch; and a
  /// second model on the same engine gets its own weights, not the first one's.
  @Test func weightsArePreparedOncePerCall() throws {
    let (engine, model, images) = try Self.fixture(modelSeed: 50, imageCount: 30, imageSeed: 51)
    func preparations() throws -> [Int] {
      try [7, 2].map {
        try engine.workspace(architecture: model.architecture, batch: $0, training: false)
          .convolution.weightPreparations
      }
    }
    let first = try engine.predictProbabilities(model, images: images, batchSize: 7)
    #expect(try preparations() == [1, 1], "30 images in batches of 7: 4 of 7 and one of 2")
    var generator = SeededGenerator(seed: 52)
    _ = try engine.predictMonteCarlo(
      model,
      images: images,
      samples: 3,
      generator: &generator,
      strategy: .fullPasses,
      batchSize: 7
    )
    #expect(try preparations() == [2, 2], "3 passes of 5 batches, one preparation each")
    var otherGenerator = SeededGenerator(seed: 53)
    let other = BayesianCNN(generator: &otherGenerator)
    let second = try engine.predictProbabilities(other, images: images, batchSize: 7)
    let fresh = try ComputeEngine().predictProbabilities(other, images: images, batchSize: 7)
    #expect(second.scalars == fresh.scalars)
    #expect(first.scalars != second.scalars)
  }

  /// The evaluation stage's one-pass form gives exactly what the two separate calls give
  /// (batches straddle the image count, and the head runs in several chunks).
  @Test func bothPredictionsAtOnceEqualSeparateCalls() throws {
    let (engine, model, images) = try Self.fixture(modelSeed: 47, imageCount: 23, imageSeed: 48)
    var separateGenerator = SeededGenerator(seed: 49)
    var combinedGenerator = separateGenerator
    let deterministic = try engine.predictProbabilities(model, images: images, batchSize: 8)
    let monteCarlo = try engine.predictMonteCarlo(
      model,
      images: images,
      samples: 4,
      generator: &separateGenerator,
      batchSize: 8,
      headRows: 12
    )
    let combined = try engine.predictDeterministicAndMonteCarlo(
      model,
      images: images,
      samples: 4,
      generator: &combinedGenerator,
      batchSize: 8,
      headRows: 12
    )
    #expect(combined.deterministic.shape == [23, 10])
    #expect(combined.monteCarlo.shape == [4, 23, 10])
    #expect(combined.deterministic.scalars == deterministic.scalars)
    #expect(combined.monteCarlo.scalars == monteCarlo.scalars)
    // Both consumed one draw: the generators continue alike.
    #expect(combinedGenerator.next() == separateGenerator.next())
  }
  /// Mask draws keep units with probability 1 − p and scale them by 1 / (1 − p).
  @Test(arguments: [Float(0.25), 0.5, 0.3])
  func dropoutMasksHaveTheRequestedRate(rate: Float) {
    let sampler = DropoutMaskSampler(rate: rate)
    var mask = [Float](repeating: 0, count: 100_000)
    var generator = SeededGenerator(seed: 47)
    sampler.fill(&mask, count: mask.count, generator: &generator)
    let dropped = Double(mask.filter { $0 == 0 }.count) / Double(mask.count)
    #expect(abs(dropped - Double(rate)) < 0.01)
    #expect(Set(mask) == [0, 1 / (1 - rate)])
  }

  /// The vector mask paths draw exactly the bits of the documented unit-by-unit definition
  /// (b bits per unit, low bits first, a fresh 64-bit word when one is used up), so masks and
  /// therefore cached scores never depend on which path ran. Row lengths that are not multiples
  /// of 8 or of a word exercise the tails.
  @Test(arguments: [Float(0.25), 0.5, 0.0625, 0.375, 0.3])
  func masksFollowTheBitLevelDefinition(rate: Float) {
    let sampler = DropoutMaskSampler(rate: rate)
    let bits = (1...16).first { (rate * Float(1 << $0)).rounded() == rate * Float(1 << $0) } ?? 16
    let threshold = UInt64((rate * Float(1 << bits)).rounded())
    let scale = 1 / (1 - rate)
    for count in [1, 7, 37, 128, 3872] {
      var reference = [Float]()
      var generator = SeededGenerator(seed: 48)
      while reference.count < count {
        var word = generator.next()
        for _ in 0..<min(64 / bits, count - reference.count) {
          reference.append((word & ((1 << UInt64(bits)) - 1)) < threshold ? 0 : scale)
          word >>= UInt64(bits)
        }
      }
      var mask = [Float](repeating: -1, count: count)
      var fillGenerator = SeededGenerator(seed: 48)
      sampler.fill(&mask, count: count, generator: &fillGenerator)
      #expect(mask == reference, "fill, rate \(rate), \(count) units")
      let input = (0..<count).map { Float($0 % 13) - 6 }
      var output = [Float](repeating: -1, count: count)
      var applyGenerator = SeededGenerator(seed: 48)
      sampler.apply(input: input, output: &output, count: count, generator: &applyGenerator)
      #expect(output == zip(input, reference).map { $0 * $1 }, "apply, rate \(rate), \(count)")
    }
  }
}

@Suite struct BenchmarkAccountingTests {
  /// The analytic FLOP counts match the PyTorch baseline's table (perf-baseline.md §3).
  @Test func flopCountsMatchThePaperModel() {
    let flops = FLOPCount(.paper)
    #expect(flops.forward == 17_493_504)
    #expect(flops.convolutions == 16_499_712)
    #expect(flops.head == 993_792)
    #expect(flops.training == 51_840_512)
    #expect(ModelParameters(zerosFor: .paper).scalarCount == 513_994)
  }
}

/// Consistent MC dropout: one mask per pass, shared by every image.
extension PredictionTests {
  @Test func consistentMasksAreSharedWithinAPassAndDifferAcrossPasses() throws {
    let (engine, model, distinct) = try Self.fixture(modelSeed: 7, imageCount: 6, imageSeed: 8)
    // Images 0..<10 are copies of one image, 10..<15 different images; conv batches of 4
    // straddle the copies.
    let copy = Array(distinct.scalars[0..<784])
    let images = Tensor(
      shape: [15, 1, 28, 28],
      scalars: (0..<10).flatMap { _ in copy } + distinct.scalars[784...]
    )
    let (t, n, c) = (6, 15, 10)
    func predict(_ masks: MonteCarloMasks) throws -> [Float] {
      var generator = SeededGenerator(seed: 9)
      return try engine.predictMonteCarlo(
        model,
        images: images,
        samples: t,
        generator: &generator,
        masks: masks,
        batchSize: 4
      ).scalars
    }
    let consistent = try predict(.consistent)
    let independent = try predict(.independent)
    func row(_ p: [Float], _ pass: Int, _ image: Int) -> [Float] {
      Array(p[((pass * n + image) * c)..<((pass * n + image + 1) * c)])
    }
    for pass in 0..<t {
      for image in 1..<10 {
        #expect(
          firstMismatch(row(consistent, pass, image), row(consistent, pass, 0), absolute: 1e-6)
            == nil,
          "copies must see the same mask in pass \(pass)"
        )
      }
      // Image 0 gets the mask of row 0, as in the independent mode.
      #expect(
        firstMismatch(row(consistent, pass, 0), row(independent, pass, 0), absolute: 1e-5) == nil
      )
    }
    // Independent masks make the copies differ within a pass; consistent passes differ.
    #expect(
      firstMismatch(row(independent, 0, 1), row(independent, 0, 0), absolute: 1e-4) != nil
    )
    for pass in 1..<t {
      #expect(
        firstMismatch(row(consistent, pass, 0), row(consistent, 0, 0), absolute: 1e-4) != nil,
        "pass \(pass) drew the mask of pass 0"
      )
    }
  }
}
