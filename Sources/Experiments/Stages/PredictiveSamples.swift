import Acquisition
import NeuralEngine
import PipelineCore

/// The probability samples `[S, N, C]` of an uncertainty source: the one place where a
/// ``UncertaintySource`` becomes numbers, so that acquisition functions and evaluation only
/// ever see samples and their mean.
struct PredictiveSamples {
  /// Where the samples come from.
  var source: UncertaintySource
  /// `T`, the MC-dropout passes (per member of an ensemble that uses MC dropout).
  var mcSamples: Int
  /// How ensemble members predict (ignored for the other sources).
  var ensembleDropout: EnsembleDropout
  /// How MC-dropout passes draw their masks (independent per image, or consistent).
  var masks: MonteCarloMasks = .independent

  /// The name of the stage input that carries network `member` of a round (`model`,
  /// `model-1`, ... `model-(M-1)`).
  static func inputName(member: Int) -> String { member == 0 ? "model" : "model-\(member)" }

  /// The networks a stage of this source reads: one, or the `M` members of an ensemble.
  static func networks(_ context: StageContext, count: Int) throws -> [BayesianCNN] {
    try (0..<count).map { try ModelArtifact.read(from: context.inputURL(inputName(member: $0))) }
  }

  /// `S`, the number of samples per image.
  func sampleCount(members: Int) -> Int {
    source.sampleCount(
      mcSamples: mcSamples,
      ensembleSize: members,
      membersUseMCDropout: ensembleDropout == .mcDropout
    )
  }

  /// The samples `[S, N, C]` of `networks` for `images`: one deterministic pass, `T`
  /// MC-dropout passes, or each ensemble member's pass (or `T` passes) in member order. MC
  /// masks come from one draw of `generator` per network, in member order.
  func probabilities(
    of networks: [BayesianCNN],
    images: Tensor,
    generator: inout SeededGenerator,
    engine: ComputeEngine
  ) throws -> MCProbabilities {
    precondition(!networks.isEmpty, "no network to predict with")
    let useMC: Bool
    switch source {
    case .deterministic: useMC = false
    case .mcDropout: useMC = true
    case .deepEnsemble: useMC = ensembleDropout == .mcDropout
    case .harmonic: preconditionFailure("the harmonic function has no network to predict with")
    }
    var values: [Float] = []
    var points = 0
    var classes = 0
    for network in networks {
      let predicted =
        useMC
        ? try engine.predictMonteCarlo(
          network,
          images: images,
          samples: mcSamples,
          generator: &generator,
          masks: masks
        )
        : try engine.predictProbabilities(network, images: images)
      points = predicted.shape[predicted.shape.count - 2]
      classes = predicted.shape[predicted.shape.count - 1]
      if values.isEmpty { values = predicted.scalars } else { values += predicted.scalars }
    }
    return MCProbabilities(
      passes: networks.count * (useMC ? mcSamples : 1),
      points: points,
      classes: classes,
      values: values
    )
  }
}
