import Acquisition
import Foundation
import MNIST
import NeuralEngine
import Notebook
import Reports

/// The "Protocol" section of a report: what this run did, next to the paper's text and the
/// authors' code, for every aspect where they could differ, with the reason for each choice.
///
/// Every "this report" cell is generated from the resolved parameters and the document's
/// declarations, never written by hand, so it cannot drift from what was run. The paper and
/// authors' columns summarise `shared/reference/paper-protocol.md` and the fidelity review.
public enum ProtocolDescription {
  /// Why the pool is what it is: its size (all that is left, or `pool-size`) and the scored
  /// subset, each against the authors' choice.
  static func poolReason(_ p: ExperimentParameters, isFigure3: Bool) -> String {
    let subset =
      p.poolSubset == 2000
      ? "subset as the authors (the paper is silent; scoring the whole pool costs 30x)"
      : p.poolSubset == 0
        ? "the whole pool scored (overridden: `pool-subset=0`)"
        : "subset size overridden (`pool-subset`)"
    guard p.poolSize > 0 else { return subset + "; the larger pool is immaterial" }
    return
      (isFigure3 && p.poolSize == 5000
      ? "the pool size of the authors' `MBR.py`" : "pool size overridden (`pool-size`)")
      + "; " + subset
  }

  /// The section's table for `plan`, whose document declares `figures`; `results` (if given)
  /// lets it point at the dips that small last batches left in the curves.
  public static func table(
    plan: ExperimentPlan,
    figures: [FigureBlock],
    results: ExperimentResults? = nil
  ) -> TableData {
    let p = plan.profile.parameters
    let poolSize = DatasetFacts.mnist.trainingCount - p.validation - p.initialLabelled
    let models = Set(plan.models)
    var rows: [[String]] = []
    func row(_ aspect: String, _ ours: String, _ paper: String, _ authors: String, _ why: String) {
      rows.append([aspect, ours, paper, authors, why])
    }

    // Figure 3's sizes come from the authors' `MBR.py`, not from their Figure 1 scripts.
    var isFigure3 = models.contains(.harmonic)
    if case .digits = p.dataset { isFigure3 = true }
    row(
      "Initial labelled set",
      "\(p.initialLabelled) images, \(p.initialPerClass) per class, drawn per repetition",
      "20, random but balanced",
      isFigure3
        ? "`MBR.py`: the first 20 of its list of the 2s followed by the 8s: all 2s"
        : "20: the first 2 of each digit in a shuffled block",
      p.initialLabelled != 20
        ? "overridden (`initial-per-class`)"
        : isFigure3 ? "the paper's (the script's 20 are one class)" : "as both"
    )
    row(
      "Acquisition",
      "\(p.rounds) rounds of the top \(p.acquireCount): \(p.totalAcquired) acquired, "
        + "\(p.initialLabelled + p.totalAcquired) labelled at the end",
      "100 rounds of 10: 1000 acquired",
      "98 rounds of 10: 1000 labelled",
      p.rounds == 100 && p.acquireCount == 10
        ? "the paper's text" : "overridden (`rounds`, `acquire-count`)"
    )
    let repeated = plan.datasets.compactMap { dataset -> (DatasetVariant, Int, Int)? in
      guard case .repeated(let copies, _) = dataset else { return nil }
      let size = dataset.facts(of: .mnist).trainingCount - p.validation - p.initialLabelled
      return (dataset, copies, size)
    }
    if p.dataset != .mnist || models.contains(.harmonic) {
      row(
        "Dataset",
        "\(p.dataset): classes \(p.dataset.declaredFacts.classNames.joined(separator: ", "))"
          + (p.dataset == .mnist ? "" : ", derived from MNIST by the `dataset-variant` stage"),
        "Figure 3: MNIST digits 2 and 8 (the digits are not stated in the text we have)",
        "`MBR.py`: digits 2 and 8, 1000 validation, 20 initial, 5000 pool images; its CNN has "
          + "3×3 kernels (4×4 in the Figure 1 scripts) and 10 softmax outputs",
        "the authors' script"
      )
    }
    if models.contains(.harmonic) {
      row(
        "Harmonic function (MBR)",
        "RBF graph over the initial labelled, pool and test images, sigma = \(p.rbfSigma); "
          + "the Laplacian block inverted once per repetition (LAPACK), updated by each round's "
          + "labels; test labels by "
          + (p.harmonicPrediction == .threshold
            ? "thresholding f at 0.5" : "class mass normalisation")
          + "; MBR expected risk by the rank-one update, the \(p.acquireCount) lowest taken per round",
        "MBR with an RBF kernel (Zhu, Lafferty & Ghahramani 2003)",
        "sigma = 1 but weights exp(+d²/sigma²); a risk independent of the label; the 10 highest "
          + "risks among 50 pool points; the CNN trained and evaluated on the acquired images",
        "Zhu et al.'s definitions; the script's slips not copied"
      )
    }
    row(
      "Pool",
      (p.poolSize > 0
        ? "a seeded subset of \(p.poolSize) of the training images outside the validation and "
          + "initial sets"
        : p.dataset == .mnist
          ? "all \(poolSize) training images outside the validation and initial sets"
          : "all training images of \(p.dataset) outside the validation and initial sets")
        + repeated.map { dataset, copies, size in
          " (\(dataset.displayName): all \(size) of its training images outside them, the "
            + "subset drawn as whole groups of the \(copies) copies of an image)"
        }.joined() + "; "
        + (p.poolSubset == 0
          ? "the whole pool scored each round"
          : p.poolSize > 0 && p.poolSubset >= p.poolSize
            ? "the whole pool scored each round (`pool-subset` \(p.poolSubset) is not smaller "
              + "than the pool)"
            : "a fresh uniform subset of \(p.poolSubset) scored each round"),
      "the remaining training images (no subset mentioned)",
      isFigure3
        ? "`MBR.py`: 5000 images ([5000, 10000) of its 2s-then-8s list: mostly 8s); MBR scores "
          + "the same first 50 pool images every round"
        : "40,000 images ([20k, 60k) of a shuffle); a fresh subset of 2000 per round",
      poolReason(p, isFigure3: isFigure3)
    )
    row(
      "Validation set",
      "\(p.validation) images held out of the pool"
        + (p.weightDecayGrid.isEmpty ? ", not used otherwise" : ", used to choose c"),
      "100 (5000 for Table 2), used to optimise the weight decay",
      isFigure3
        ? "`MBR.py`: 1000 (all 2s: [2000, 3000) of its 2s-then-8s list), used for monitoring only"
        : "5000, used for monitoring only",
      p.validation == 100
        ? "the paper's size"
        : p.validation == 5000
          ? "the paper's size for Table 2"
          : isFigure3 && p.validation == 1000
            ? "the authors' `MBR.py` (the paper gives none for Figure 3)"
            : "overridden (`validation`)"
    )
    let grid = p.weightDecayGrid.map { String($0) }.joined(separator: ", ")
    row(
      "Weight decay",
      (p.weightDecayGrid.isEmpty
        ? "fixed c = \(p.weightDecay)"
        : "tuned every round on the validation set over c in {\(grid)} (dropout-off accuracy, "
          + "ties to the lower cross-entropy); the chosen c is in the CSV")
        + "; λ = c / N on the dense-128 weights",
      "optimised on the validation set (grid not published)",
      "fixed c = 3.5 (2.5 in the Mean STD script); λ = c / N on the dense-128 weights",
      p.weightDecayGrid.isEmpty
        ? "the authors' fixed value: tuning multiplies training cost by the grid size (switch "
          + "on with `--set weight-decay-grid=0.5,1,2.5,3.5,5,10`)"
        : "the paper's text"
    )
    row(
      "Initialisation",
      p.initialisation == .keras03
        ? "Glorot uniform with Keras 0.3's fans (conv fan_out = filters): conv1 ±0.354, conv2 ±0.105"
        : "Glorot uniform with Keras ≥ 1 fans (conv fan_out = filters × kernel area): "
          + "conv1 ±0.107, conv2 ±0.0765",
      "not stated",
      "Keras 0.3.1 Glorot uniform: conv fan_out = filters",
      p.initialisation == .keras03
        ? "the authors' library (the paper is silent)"
        : "overridden (`initialisation=glorot`); interacts with the fixed c"
    )
    row(
      "Training",
      "fresh model every round; \(p.epochs) epochs, batch \(p.batchSize), last partial batch "
        + (p.lastBatch == .keep ? "kept" : "dropped")
        + ", Adam lr \(p.learningRate), exact cross-entropy",
      "not stated beyond the architecture",
      "fresh model every round; 50 epochs, batch 128, Keras `fit` (last batch kept), Adam "
        + "lr 0.001, cross-entropy on p clipped to [1e-7, 1 - 1e-7]",
      p.lastBatch == .keep
        ? "the authors' (a kept 2-image batch at 130 labels makes a visible dip)"
        : "overridden (`last-batch=drop`) to remove the dips of tiny last batches"
    )
    if let results {
      let small = results.smallBatchRounds(metric: figures.first?.metric ?? .natural)
      if !small.isEmpty {
        row(
          "Small last batches",
          small.map { round in
            "\(round.labelled) labels (last batch \(round.lastBatch)): "
              + (round.dip.map { String(format: "%+.2f pp against its neighbours", $0) }
                ?? "not measured yet")
          }.joined(separator: "; "),
          "not stated",
          "Keras `fit` keeps the last batch: the same rounds",
          "these rounds train each epoch's last Adam step on a few images; a negative number "
            + "is a dip in the curves there (`--set last-batch=drop` removes the cause)"
        )
      }
    }
    row(
      "Scoring passes",
      models.contains(.mcDropout)
        ? "T = \(p.mcSamples) MC-dropout passes (both dropout layers, "
          + (p.mcDropoutMasks == .consistent
            ? "consistent masks: one per pass, shared by every image)"
            : "independent masks per image"
              + (plan.acquisitions.contains(.batchBALD)
                ? "; BatchBALD: consistent masks, one per pass shared by every image)" : ")"))
        : "one deterministic pass",
      "MC dropout (T not stated)",
      "T = 100 (`predict_stochastic`)",
      p.mcSamples == 100 ? "the authors' T" : "reduced for speed (`mc-samples`)"
    )
    let testImages =
      p.testSubset == 0
      ? "all \(p.allTestImages)"
      : "a seeded class-stratified random subset of \(p.testSubset) test images"
    row(
      "Test accuracy",
      "on \(testImages): the mean of T = \(p.testMCSamples) MC-dropout passes, and one "
        + "dropout-off pass; both are stored"
        + (plan.models.contains(.deterministic)
          ? ". The deterministic CNN (a point-mass posterior) runs only its dropout-off pass, "
            + "which is also its predictive mean" : ""),
      "\"dropout approximation at test time\" (MC dropout); no MC dropout for the "
        + "deterministic models of Figure 2",
      isFigure3
        ? "`model.evaluate`: dropout off, the 2s and 8s of the test set"
        : "`model.evaluate`: dropout off, 10,000 test images",
      (p.testMCSamples == 200
        ? "T chosen by measurement (MC accuracy within 0.05 pp of T = 1000 on average)"
        : "T = \(p.testMCSamples) for speed (`test-mc-samples`; the paper profile's 200 is within "
          + "0.05 pp of T = 1000 on average)")
        + (p.testSubset == 0 ? "" : "; a test subset for speed (`test-subset`)")
        + "; see the figures and tables for which one each shows"
    )
    for figure in figures {
      row(
        "Figure `\(figure.id)`",
        plan.models.map {
          "\($0.displayName): " + metricName(figure.metric.metric(for: $0), source: $0)
        }
        .joined(separator: "; "),
        models.contains(.deterministic)
          ? "Bayesian CNN with MC dropout, deterministic CNN without" : "MC dropout",
        "dropout off for every model",
        "the paper's text"
      )
    }
    if models.contains(.deterministic) {
      let varRatios =
        p.deterministicVarRatios == .leastConfidence
        ? "Variation Ratios is 1 - max p (least confidence)"
        : "mode-count Variation Ratios is 0 everywhere (random selection)"
      row(
        "Deterministic CNN",
        "same training; one dropout-off pass to score: BALD and Mean STD are exactly 0 for "
          + "every image, so they select uniformly at random within the scored subset (the "
          + "same images as the Random cell of the repetition); \(varRatios); Max Entropy is "
          + "the entropy of the softmax",
        "q(ω) = δ(ω − θ): the acquisition functions on one probability vector "
          + "(Variation Ratios = 1 - max p)",
        "`Softmax_*` scripts: BALD ranks floating-point rounding residue (not uniform); "
          + "Variation Ratios by mode count (degenerate); an extra 50-epoch refit before scoring",
        p.deterministicVarRatios == .leastConfidence
          ? "the paper's formulas; random selection is what BALD's formula gives for one pass"
          : "overridden (`deterministic-var-ratios=mode-count`): the authors' degenerate form"
      )
    }
    if models.contains(.deepEnsemble) {
      row(
        "Deep ensemble",
        "M = \(p.ensembleSize) networks per round, each trained like the single network from "
          + "its own seed (repetition, round, member; member 0 is the MC-dropout cell's network "
          + "on the same labelled set), predicting "
          + (p.ensembleDropout == .mcDropout
            ? "with T = \(p.mcSamples) MC-dropout passes each (S = M x T) to score and "
              + "T = \(p.testMCSamples) each to test"
            : "with dropout off (S = M)")
          + "; test accuracy of the members' mean prediction, and the members' mean accuracy",
        "not in the paper",
        "not in the authors' code",
        "Beluch et al. (2018): M = 5 members of the same architecture, acquisition functions "
          + "on their softmax outputs"
      )
    }
    if plan.acquisitions.contains(.batchBALD) {
      var exact = 0
      var configurations = 1
      while configurations * 10 <= p.batchBALDConfigurations { configurations *= 10; exact += 1 }
      row(
        "BatchBALD",
        "the greedy batch of b = \(p.acquireCount) from the scored subset: each pick maximises "
          + "the mutual information between the batch's joint labels and the weights; joint "
          + "entropy exact while the batch's label configurations number at most "
          + "\(p.batchBALDConfigurations) (\(exact) points of 10 classes), estimated from "
          + "\(p.batchBALDConfigurations) configurations sampled from the batch's joint beyond",
        "not in the paper",
        "not in the authors' code",
        "Kirsch, van Amersfoort & Gal (2019), Algorithm 1, with their switch from exact to "
          + "sampled joint entropies (their code samples 100,000 configurations on a GPU)"
      )
    }
    for (dataset, copies, _) in repeated {
      row(
        "Dataset",
        "\(dataset.displayName): the \(DatasetFacts.mnist.trainingCount) training images \(copies) times, each copy with "
          + "its own seeded Gaussian noise on the [0, 1] pixels, not clipped; the test set is "
          + "MNIST's",
        "not in the paper",
        "not in the authors' code",
        "Kirsch et al. (2019): 3 copies, noise std 0.1 on standardised pixels (0.031 on [0, 1])"
      )
    }
    if plan.acquisitions.contains(.meanSTD) {
      row(
        "Mean STD",
        "the formula, with c as above",
        "mean over classes of the std over MC passes",
        "std of a single value (0 for every image), c = 2.5",
        "the paper's formula; the authors' script is a bug"
      )
    }
    row(
      "Pairing and seeds",
      "every draw from root seed \(p.seed) and its position: cells of one repetition share "
        + "the split, initial set, initial weights and training draws",
      "not stated",
      "unpaired: a different Python seed per script; numpy and Theano unseeded",
      "paired comparisons have less noise; any round replays bit for bit"
    )
    return TableData(
      columns: ["Aspect", "This report", "Paper's text", "Authors' code", "Why"],
      rows: rows
    )
  }

  static func metricName(
    _ metric: AccuracyMetric,
    source: UncertaintySource = .mcDropout
  )
    -> String
  {
    switch (metric, source) {
    case (_, .harmonic): "accuracy of the harmonic field's labels"
    case (.mc, .deepEnsemble): "accuracy of the members' mean prediction"
    case (.deterministic, .deepEnsemble): "accuracy of the members' mean dropout-off prediction"
    case (.mc, _): "MC-dropout accuracy"
    case (.deterministic, _): "dropout-off accuracy"
    }
  }
}
