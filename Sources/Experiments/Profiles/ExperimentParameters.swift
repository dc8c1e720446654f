import Acquisition
import Foundation
import MNIST
import NeuralEngine

/// Every knob of the active-learning protocol, with the paper's values as ``paper``.
///
/// All of these are semantic: each one that a stage uses enters that stage's cache key, so
/// overriding a value (`--set rounds=30`) recomputes exactly what depends on it.
public struct ExperimentParameters: Codable, Sendable, Hashable {
  /// Independent repetitions per configuration (different splits, initial sets, weights).
  public var repetitions: Int
  /// Acquisition rounds; a model is trained and evaluated `rounds + 1` times (before the first
  /// and after every acquisition), so `rounds * acquireCount` images are acquired in total.
  public var rounds: Int
  /// Images acquired (labelled) per round, the top-K of the scored subset.
  public var acquireCount: Int
  /// Initial labelled images per class (2 x 10 classes = the paper's 20 balanced points).
  public var initialPerClass: Int
  /// Validation images held out of the pool (100 in §5.1-5.3, 5000 for Table 2).
  public var validation: Int
  /// Pool points scored per round, drawn afresh from the pool (the authors' 2000); 0 = whole pool.
  public var poolSubset: Int
  /// MC-dropout passes T when scoring the pool (the authors' code: 100).
  public var mcSamples: Int
  /// MC-dropout passes when measuring MC-averaged test accuracy. The paper does not state it;
  /// the paper profile's 200 is the smallest of 10, 20, 50, 100, 200 whose accuracy was within
  /// 0.05 pp of T = 1000 on average over seven models of 20 to 1020 labels
  /// (`Scripts/measure-test-passes`; the README has the table).
  public var testMCSamples: Int
  /// Test images evaluated: a seeded, class-stratified random subset of the official 10k
  /// (the same for every round and repetition of a run); 0 = all 10,000.
  public var testSubset: Int
  /// Training epochs per round (a fresh model every round).
  public var epochs: Int
  /// Minibatch size.
  public var batchSize: Int
  /// What training does with an epoch's last, partial batch (Keras and the authors: keep).
  public var lastBatch: LastBatchPolicy
  /// How the network's weights are initialised each round (the authors ran Keras 0.3's fans).
  public var initialisation: WeightInitialisation
  /// Weight-decay constant c: lambda = c / N_labelled on the dense-128 weights. Used when
  /// ``weightDecayGrid`` is empty.
  public var weightDecay: Double
  /// The paper's tuning of c on the validation set: when not empty, every round trains one model
  /// per c in the grid and keeps the one with the best validation accuracy (dropout off; ties go
  /// to the lower validation cross-entropy, then to the earlier grid value). Empty: c is fixed.
  public var weightDecayGrid: [Double]
  /// How a deterministic model (one pass) scores Variation Ratios: the paper's formula
  /// `1 - max_c p_c` (least confidence), or the mode count of one pass, which is 0 everywhere
  /// and so degenerates to random selection (the authors' `Softmax_VarRatio` script).
  public var deterministicVarRatios: SinglePassVariationRatios
  /// Adam learning rate.
  public var learningRate: Double
  /// The run's root seed; every random draw derives from it and the draw's position.
  public var seed: Int
  /// Members M of a deep ensemble (cells whose uncertainty source is `ensemble`): each a fresh
  /// network of the paper's architecture trained with the same protocol on the same labelled
  /// set, initialised and shuffled from its own seed (Beluch et al. 2018 use 5).
  public var ensembleSize: Int
  /// How ensemble members predict when scoring and evaluating: one pass with dropout off
  /// (`S = M`, the ensemble alone approximates the posterior) or `T` MC-dropout passes each
  /// (`S = M x T`, the combination Beluch et al. also report).
  public var ensembleDropout: EnsembleDropout
  /// Which rounds also measure calibration (test NLL, Brier score, ECE) in a `calibrate`
  /// stage. It repeats the evaluation's test passes (about 17 s a round with T = 200 on 10,000
  /// images: measuring every round would add some 60% to the paper profile's 13 hours), so the
  /// paper profile measures every 10th round (rounds 0, 10, ..., 100: about 6% more compute);
  /// the quick and smoke profiles measure every round.
  public var calibration: CalibrationMeasurement
  /// How MC-dropout scoring draws its masks: one per image and pass (the paper) or one per
  /// pass shared by all images (consistent MC dropout). BatchBALD always scores with
  /// consistent masks, whatever this says.
  public var mcDropoutMasks: MonteCarloMasks
  /// BatchBALD's joint-configuration budget: the joint entropy of a batch is computed exactly
  /// while its `C^n` label configurations number at most this many (with C = 10, batches of up
  /// to 3 points), and estimated from this many sampled configurations beyond. 1000 keeps the
  /// estimate's standard deviation below log(10)/sqrt(1000) = 0.07 nats and a round's scoring
  /// of 2000 images at T = 100 within a few times BALD's cost (see ``BatchBALD``).
  public var batchBALDConfigurations: Int

  // Dataset variants and the harmonic-function baseline. Stored only where they differ from
  // the default, so that parameter sets without them keep their encoding and digest.
  var storedDataset: DatasetVariant? = nil
  var storedPoolSize: Int? = nil
  var storedRBFSigma: Double? = nil
  var storedHarmonicPrediction: HarmonicPrediction? = nil

  /// The dataset the cells learn from (``DatasetVariant``), unless the document lists its own
  /// with `datasets:`: `mnist`, or a variant derived from it (`digits:2,8`, the paper's binary
  /// Figure 3 task; `repeated:3x0.1`, Repeated MNIST). MNIST enters no existing cache key.
  public var dataset: DatasetVariant {
    get { storedDataset ?? .mnist }
    set { storedDataset = newValue == .mnist ? nil : newValue }
  }
  /// Pool images kept after the validation and initial sets: a seeded uniform subset of this
  /// size (the authors' Figure 3 script: 5000), the rest unused; 0 = every remaining image.
  public var poolSize: Int {
    get { storedPoolSize ?? 0 }
    set { storedPoolSize = newValue == 0 ? nil : newValue }
  }
  /// Width sigma of the harmonic function's RBF weights `exp(-||x_i - x_j||^2 / sigma^2)` on
  /// pixels in [0, 1] (the authors' Figure 3 script: 1).
  public var rbfSigma: Double {
    get { storedRBFSigma ?? 1 }
    set { storedRBFSigma = newValue == 1 ? nil : newValue }
  }
  /// How the harmonic function labels test images: threshold at 0.5, or class mass
  /// normalisation (Zhu et al. 2003).
  public var harmonicPrediction: HarmonicPrediction {
    get { storedHarmonicPrediction ?? .threshold }
    set { storedHarmonicPrediction = newValue == .threshold ? nil : newValue }
  }

  /// `1 repetition` or `3 repetitions`.
  public var repetitionsText: String {
    repetitions == 1 ? "1 repetition" : "\(repetitions) repetitions"
  }

  /// The whole test set in words: "10,000 test images", or "test images of MNIST 2 vs 8" for
  /// a subset of the digits (how many it holds is read from the derived file, not known here).
  public var allTestImages: String {
    if case .digits = dataset { return "test images of \(dataset.displayName)" }
    let n = DatasetFacts.mnist.testCount
    return n >= 1000
      ? "\(n / 1000),\(String(format: "%03d", n % 1000)) test images" : "\(n) test images"
  }

  /// The paper's protocol (§5.1, with the authors' code where the paper is silent).
  public static let paper = ExperimentParameters(
    repetitions: 3,
    rounds: 100,
    acquireCount: 10,
    initialPerClass: 2,
    validation: 100,
    poolSubset: 2000,
    mcSamples: 100,
    testMCSamples: 200,
    testSubset: 0,
    epochs: 50,
    batchSize: 128,
    lastBatch: .keep,
    initialisation: .keras03,
    weightDecay: 3.5,
    weightDecayGrid: [],
    deterministicVarRatios: .leastConfidence,
    learningRate: 1e-3,
    seed: 0,
    ensembleSize: 5,
    ensembleDropout: .off,
    calibration: .every(10),
    mcDropoutMasks: .independent,
    batchBALDConfigurations: 1000
  )

  /// The weight-decay constants a round trains with: the grid, or the one fixed c.
  public var weightDecayCandidates: [Double] {
    weightDecayGrid.isEmpty ? [weightDecay] : weightDecayGrid
  }

  /// Total images acquired by the end of a run.
  public var totalAcquired: Int { rounds * acquireCount }
  /// Size of the initial labelled set.
  public var initialLabelled: Int { initialPerClass * dataset.declaredFacts.classCount }
}

/// How the members of a deep ensemble predict.
public enum EnsembleDropout: String, Sendable, Hashable, Codable, CaseIterable {
  /// One pass with dropout off per member: `S = M`.
  case off
  /// `T` MC-dropout passes per member: `S = M x T`.
  case mcDropout = "mc-dropout"
}

/// How the harmonic function (Zhu et al. 2003) turns its field `f_i = P(y_i = 1)` into labels.
public enum HarmonicPrediction: String, Sendable, Hashable, Codable, CaseIterable {
  /// Class 1 where `f_i > 0.5`.
  case threshold
  /// Class mass normalisation: the field rescaled to the labelled set's class proportions.
  case classMass = "class-mass"
}

/// Which rounds' calibration is measured: every round, none, or every `n`-th round.
///
/// Spelled `on`, `off` or `every-N` on the command line and in run records. With `every-N` the
/// rounds `0, N, 2N, ...` are measured, and always the last one, so a figure of calibration over
/// the rounds spans the whole run at a fraction of the cost of measuring every round.
public enum CalibrationMeasurement: Sendable, Hashable, Codable, RawRepresentable,
  LosslessStringConvertible
{
  /// A `calibrate` stage every round.
  case on
  /// No calibrate stages.
  case off
  /// A `calibrate` stage in rounds `0, n, 2n, ...` and in the last round (`n >= 1`).
  case every(Int)

  /// Parses `on`, `off` or `every-N` with `N >= 1`; nil otherwise.
  public init?(rawValue: String) {
    switch rawValue {
    case "on": self = .on
    case "off": self = .off
    default:
      guard rawValue.hasPrefix("every-"), let n = Int(rawValue.dropFirst("every-".count)), n >= 1
      else { return nil }
      self = n == 1 ? .on : .every(n)
    }
  }

  /// Parses the spelling of ``init(rawValue:)``.
  public init?(_ description: String) { self.init(rawValue: description) }

  /// `on`, `off` or `every-N`.
  public var rawValue: String {
    switch self {
    case .on: "on"
    case .off: "off"
    case .every(let n): "every-\(n)"
    }
  }

  /// The spelling of ``rawValue``.
  public var description: String { rawValue }

  /// Whether round `round` (0...`rounds`) of a run of `rounds` rounds is measured.
  public func measures(round: Int, of rounds: Int) -> Bool {
    switch self {
    case .on: true
    case .off: false
    case .every(let n): round % n == 0 || round == rounds
    }
  }
}

/// A named set of parameter values: `paper` (the default), `quick` and `smoke`.
public struct Profile: Sendable, Hashable {
  /// The profile's name as typed on the command line.
  public var name: String
  /// One line on what the profile is for.
  public var purpose: String
  /// The resolved values, after any `--set` overrides.
  public var parameters: ExperimentParameters
  /// The overrides applied on top of the named profile, in command-line order.
  public var overrides: [ProfileOverride] = []

  /// One line for `pipeline list` and `status`, generated from the resolved parameters.
  public var summary: String {
    let p = parameters
    let test = p.testSubset == 0 ? p.allTestImages : "\(p.testSubset) test images"
    return
      "\(p.repetitionsText), \(p.totalAcquired) acquired images, T = \(p.mcSamples), "
      + "\(p.epochs) epochs, \(test): \(purpose)"
  }

  /// A prominent notice for reports of non-paper profiles (nil for `paper`), generated from the
  /// resolved parameters so that it stays true under `--set` overrides.
  public var notice: String? {
    guard name != Profile.paper.name else { return nil }
    let p = parameters
    let test =
      p.testSubset == 0
      ? "all \(p.allTestImages)"
      : "a class-stratified random subset of \(p.testSubset) test images"
    return "\(name.prefix(1).uppercased() + name.dropFirst()) profile: a reduced protocol "
      + "(\(p.repetitionsText), \(p.rounds) rounds of \(p.acquireCount) = "
      + "\(p.totalAcquired) acquired images, \(p.epochs) epochs per round, T = \(p.mcSamples) "
      + "scoring passes, test accuracy on \(test) with T = \(p.testMCSamples)). \(purpose.prefix(1).uppercased() + purpose.dropFirst()); "
      + "it is not the paper's protocol."
  }

  /// The protocol of the paper: 3 repetitions, 100 rounds of 10, T = 100, 50 epochs.
  public static let paper = Profile(
    name: "paper",
    purpose: "the paper's protocol",
    parameters: .paper
  )

  /// A reduced protocol that renders a meaningful figure in minutes on two cores.
  public static let quick: Profile = {
    var p = ExperimentParameters.paper
    p.repetitions = 1
    p.rounds = 20
    p.mcSamples = 20
    p.testMCSamples = 10
    p.testSubset = 2000
    p.calibration = .on
    return Profile(
      name: "quick",
      purpose: "minutes; it shows the early part of the paper's curves only",
      parameters: p
    )
  }()

  /// A seconds-long protocol for tests and for trying the tool; its numbers mean nothing.
  public static let smoke: Profile = {
    var p = ExperimentParameters.paper
    p.repetitions = 1
    p.rounds = 2
    p.poolSubset = 200
    p.mcSamples = 4
    p.testMCSamples = 2
    p.testSubset = 500
    p.epochs = 2
    p.calibration = .on
    return Profile(
      name: "smoke",
      purpose: "seconds, for checking the tool; its numbers are meaningless",
      parameters: p
    )
  }()

  /// The built-in profiles, in the order `pipeline list` shows them.
  public static let all: [Profile] = [.paper, .quick, .smoke]

  /// Looks up a built-in profile by name.
  public static func named(_ name: String) throws(ExperimentError) -> Profile {
    guard let profile = all.first(where: { $0.name == name }) else {
      throw .unknownProfile(name, known: all.map(\.name))
    }
    return profile
  }

  /// This profile with `overrides` applied in order (each validated).
  public func applying(_ overrides: [ProfileOverride]) -> Profile {
    var copy = self
    for override in overrides { override.apply(to: &copy.parameters) }
    copy.overrides += overrides
    return copy
  }
}
