import Acquisition
import Foundation
import HDF5Store
import MNIST
import NeuralEngine
import PipelineCore
import Reports

/// Looks inside one round of a cell for `pipeline inspect`: the images the round acquired and
/// a few of the lowest-scored ones of its scored subset, each with its rank, the deterministic
/// softmax (of an ensemble's member 0) and the predictive samples of the round's model(s): for MC dropout and ensembles
/// exactly the samples the score stage drew (same seed, subset and passes; the whole subset is
/// predicted again, then the shown rows kept), so that BALD on the page is the acquisition
/// score; for a deterministic cell, T MC-dropout passes of its network beside its one pass.
///
/// Inputs: the round's model(s), the data, the scores and the acquire stage's labelled set
/// (whose `acquired` are the images shown), and the labelled set the round trained on. Output
/// `inspection`: datasets `indices`, `labels`, `scores`, `ranks`, `acquired` (0/1), `images`
/// `[K, pixels]`, `deterministic` `[K, C]`, `samples` `[S, K, C]`, `subset_scores`,
/// `labelled_class_counts` and `acquired_class_counts`. A cached stage like the others, run
/// only on demand (it is not part of a target's plan).
public struct InspectStage: Stage {
  /// The semantic parameters.
  public struct Parameters: Codable, Sendable, Hashable {
    /// The round's score stage's parameters: the page redraws its subset and its predictive
    /// samples exactly as they were scored.
    public var scoring: ScoreStage.Parameters
    /// For a deterministic cell, which scores one dropout-off pass, the MC-dropout passes of
    /// its network shown beside that pass; nil for every other source.
    public var mcDropoutView: Int?
    /// How many of the lowest-scored images to show besides the acquired ones.
    public var lowest: Int
    /// The round's acquire stage's seed: its tie-break draw orders equal scores.
    public var acquireSeed: UInt64
  }

  /// The stage kind.
  public static let kind = "inspect"
  /// The logic version (2: an ensemble's deterministic view is member 0's dropout-off pass,
  /// not the members' mean, which equalled the predictive mean; ties ranked by the acquire
  /// stage's draw, not by subset order; 3: the score stage's parameters carried whole).
  public static let version = 3
  /// The parameters.
  public var parameters: Parameters
  /// The artifact.
  public var outputs: [String] { ["inspection"] }
  let resources: ExperimentResources

  /// Creates the stage.
  public init(parameters: Parameters, resources: ExperimentResources) {
    self.parameters = parameters
    self.resources = resources
  }

  /// Runs the stage; see the type's documentation.
  public func run(_ context: StageContext) throws {
    let data = try resources.dataset(at: context.inputURL("data"))
    let scores = try PoolScores(contentsOf: context.inputURL("scores"))
    let after = try LabelledSet(contentsOf: context.inputURL("acquired"))
    let before = try LabelledSet(contentsOf: context.inputURL("labelled"))
    // Ranks: 1 for the highest score, ties broken by the acquire stage's draw, so that the
    // acquired images are ranks 1...K in acquisition order (and every score of a deterministic
    // BALD cell, all 0, still ranks as it was chosen).
    var tieBreak = SeededGenerator(seed: parameters.acquireSeed)
    let order = Selection.ranking(scores.scores, using: &tieBreak)
    var rank: [Int: Int] = [:]
    var score: [Int: Double] = [:]
    for (position, i) in order.enumerated() {
      rank[scores.subset[i]] = position + 1
      score[scores.subset[i]] = scores.scores[i]
    }
    let acquired = after.acquired
    let lowest = order.suffix(parameters.lowest).map { scores.subset[$0] }
      .filter { !acquired.contains($0) }
    let shown = acquired + lowest
    // The scored subset's predictive samples as the score stage drew them (its seed, subset
    // draw and order of passes), so that what the page shows is what was scored.
    var generator = SeededGenerator(seed: context.seed ?? 0)
    let scoring = parameters.scoring
    let subset = try scoring.scoredSubset(
      of: before.pool,
      trainingCount: { data.facts.trainingCount },
      generator: &generator
    )
    guard subset == scores.subset else {
      throw ExperimentError.invalidArtifact(
        file: try context.inputURL("scores").path,
        problem: "the scored subset is not the one the round's seed draws"
      )
    }
    // The score stage's generator as its predictions found it, right after the subset draw.
    let afterSubset = generator
    let networks = try PredictiveSamples.networks(context, count: scoring.ensembleSize ?? 1)
    let images = data.trainingImages(at: shown)
    let position = Dictionary(uniqueKeysWithValues: subset.enumerated().map { ($1, $0) })
    let (deterministic, samples) = try resources.withEngine { engine in
      let off = try PredictiveSamples(source: .deterministic, mcSamples: 1, ensembleDropout: .off)
        .probabilities(of: [networks[0]], images: images, generator: &generator, engine: engine)
      if let passes = parameters.mcDropoutView {
        // A deterministic cell scores one dropout-off pass; its network's MC-dropout view.
        let mc = try PredictiveSamples(source: .mcDropout, mcSamples: passes, ensembleDropout: .off)
          .probabilities(of: networks, images: images, generator: &generator, engine: engine)
        return (off, mc)
      }
      var scoringGenerator = afterSubset
      let all = try scoring.predictive.probabilities(
        of: networks,
        images: data.trainingImages(at: subset),
        generator: &scoringGenerator,
        engine: engine
      )
      let c = all.classes
      var values: [Float] = []
      for t in 0..<all.passes {
        for index in shown {
          let row = (t * all.points + position[index]!) * c
          values += all.values[row..<(row + c)]
        }
      }
      return (
        off, MCProbabilities(passes: all.passes, points: shown.count, classes: c, values: values)
      )
    }
    let classes = data.facts.classCount
    var labelled = [Int](repeating: 0, count: classes)
    for i in before.labelled { labelled[data.trainLabels[i]] += 1 }
    var acquiredCounts = [Int](repeating: 0, count: classes)
    for i in acquired { acquiredCounts[data.trainLabels[i]] += 1 }
    let pixels = data.facts.pixelCount
    let file = try HDF5File.create(context.outputURL("inspection").path)
    try file.write(shown.map(Int64.init), shape: [shown.count], to: "indices")
    try file.write(shown.map { Int64(data.trainLabels[$0]) }, shape: [shown.count], to: "labels")
    try file.write(shown.map { score[$0] ?? .nan }, shape: [shown.count], to: "scores")
    try file.write(shown.map { Int64(rank[$0] ?? 0) }, shape: [shown.count], to: "ranks")
    try file.write(
      shown.map { acquired.contains($0) ? Int64(1) : 0 },
      shape: [shown.count],
      to: "acquired"
    )
    try file.write(images.scalars, shape: [shown.count, pixels], to: "images")
    // The dropout-off pass of the cell's network, or of an ensemble's member 0 (the single
    // network the ensemble is compared with: the members' mean is the predictive mean itself).
    try file.write(
      deterministic.values.map(Double.init),
      shape: [shown.count, classes],
      to: "deterministic"
    )
    try file.write(
      samples.values,
      shape: [samples.passes, shown.count, classes],
      to: "samples"
    )
    try file.write(scores.scores, shape: [scores.scores.count], to: "subset_scores")
    try file.write(labelled.map(Int64.init), shape: [classes], to: "labelled_class_counts")
    try file.write(acquiredCounts.map(Int64.init), shape: [classes], to: "acquired_class_counts")
    try file.close()
  }
}

/// Building and reading the inspection of one round of one cell.
public enum RoundInspection {
  /// The images shown besides the acquired ones.
  public static let lowestShown = 5

  /// The inspect stage of `round` of `cell` in `plan` (its upstream stages are the plan's).
  public static func node(
    plan: ExperimentPlan,
    cell: Cell,
    round: Int,
    resources: ExperimentResources
  ) -> StageNode {
    let p = plan.profile.parameters
    let networks = cell.model.networkCount(ensembleSize: p.ensembleSize)
    var inputs: [String: StageInput] = [
      "data": ExperimentPlan.dataInput(cell.dataset),
      "scores": .artifact(ExperimentPlan.stageID(cell, round: round, "score"), "scores"),
      "acquired": .artifact(ExperimentPlan.stageID(cell, round: round, "acquire"), "labelled"),
      "labelled": ExperimentPlan.labelledInput(cell, round: round),
    ]
    for member in 0..<networks {
      inputs[PredictiveSamples.inputName(member: member)] = .artifact(
        ExperimentPlan.trainID(cell, round: round, member: member),
        "model"
      )
    }
    return StageNode(
      id: ExperimentPlan.stageID(cell, round: round, InspectStage.kind),
      stage: InspectStage(
        parameters: .init(
          scoring: ExperimentPlan.scoreParameters(cell, p),
          mcDropoutView: cell.model == .deterministic ? p.mcSamples : nil,
          lowest: lowestShown,
          acquireSeed: ExperimentPlan.seed(p, "acquire", cell.repetition, round)
        ),
        resources: resources
      ),
      inputs: inputs,
      // The score stage's seed: the page's samples are those the round was scored with.
      seed: ExperimentPlan.seed(p, "score", cell.repetition, round),
      group: "\(cell)/inspect",
      round: round
    )
  }

  /// The page's data from the inspect stage's artifact.
  public static func page(
    plan: ExperimentPlan,
    cell: Cell,
    round: Int,
    inspection url: URL,
    command: String
  ) throws -> InspectionData {
    let file = try HDF5File.open(url.path)
    defer { try? file.close() }
    let indices = try file.read("indices", as: Int64.self).values.map { Int($0) }
    let labels = try file.read("labels", as: Int64.self).values.map { Int($0) }
    let scores = try file.read("scores", as: Double.self).values
    let ranks = try file.read("ranks", as: Int64.self).values.map { Int($0) }
    let acquired = try file.read("acquired", as: Int64.self).values.map { $0 == 1 }
    let images = try file.read("images", as: Float.self).values
    let deterministic = try file.read("deterministic", as: Double.self).values
    let samplesData = try file.read("samples", as: Float.self)
    let samples = samplesData.values
    let passes = samplesData.shape[0]
    let k = indices.count
    let classNames = cell.dataset.declaredFacts.classNames
    let classes = k == 0 ? classNames.count : deterministic.count / k
    let pixels = k == 0 ? 0 : images.count / k
    let side = Int(Double(pixels).squareRoot().rounded())
    var shown: [InspectedImage] = []
    for n in 0..<k {
      var mean = [Double](repeating: 0, count: classes)
      var square = [Double](repeating: 0, count: classes)
      var expected = 0.0
      for t in 0..<passes {
        var h = 0.0
        for c in 0..<classes {
          let v = Double(samples[(t * k + n) * classes + c])
          mean[c] += v
          square[c] += v * v
          if v > 0 { h -= v * log(v) }
        }
        expected += h
      }
      for c in 0..<classes {
        mean[c] /= Double(passes)
        square[c] = max(0, square[c] / Double(passes) - mean[c] * mean[c]).squareRoot()
      }
      let entropy = mean.reduce(0) { $1 > 0 ? $0 - $1 * log($1) : $0 }
      shown.append(
        InspectedImage(
          index: indices[n],
          label: labels[n],
          score: scores[n],
          rank: ranks[n],
          acquired: acquired[n],
          pixels: Array(images[(n * pixels)..<((n + 1) * pixels)]),
          side: side,
          deterministic: Array(deterministic[(n * classes)..<((n + 1) * classes)]),
          predictiveMean: mean,
          predictiveSpread: square,
          predictiveEntropy: max(0, entropy),
          expectedEntropy: max(0, expected / Double(passes))
        )
      )
    }
    let p = plan.profile.parameters
    let samplesText: String
    switch cell.model {
    case .mcDropout: samplesText = "T = \(p.mcSamples) MC-dropout passes"
    case .deterministic:
      samplesText =
        "T = \(p.mcSamples) MC-dropout passes of the deterministic cell's network (which "
        + "scores with one dropout-off pass)"
    case .harmonic: samplesText = "the harmonic field (no samples)"
    case .deepEnsemble:
      samplesText =
        "M = \(p.ensembleSize) members"
        + (p.ensembleDropout == .mcDropout ? " x T = \(p.mcSamples) MC-dropout passes" : "")
    }
    return InspectionData(
      target: plan.target,
      cell: cell.description,
      round: round,
      profile: plan.profile.name,
      acquisition: cell.acquisition.displayName,
      model: cell.model.displayName,
      samplesText: samplesText,
      deterministicText: cell.model == .deepEnsemble ? "member 0, dropout off" : "dropout off",
      classNames: classNames,
      subsetScores: try file.read("subset_scores", as: Double.self).values,
      labelledCounts: try file.read("labelled_class_counts", as: Int64.self).values.map { Int($0) },
      acquiredCounts: try file.read("acquired_class_counts", as: Int64.self).values.map { Int($0) },
      images: shown,
      command: command
    )
  }
}
