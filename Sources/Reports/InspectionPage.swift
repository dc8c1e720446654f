import Foundation

/// One image shown on an inspection page: where it is, how it was scored, and what the model
/// predicted for it, deterministically and by its predictive samples.
public struct InspectedImage: Sendable, Equatable {
  /// Index among the training images.
  public var index: Int
  /// The true label.
  public var label: Int
  /// The acquisition score.
  public var score: Double
  /// 1-based rank of the score in the scored subset (1 = highest).
  public var rank: Int
  /// Whether this round acquired it.
  public var acquired: Bool
  /// Grey levels in [0, 1], row-major, `side x side`.
  public var pixels: [Float]
  /// The image's side in pixels.
  public var side: Int
  /// The deterministic (dropout-off) softmax.
  public var deterministic: [Double]
  /// The mean of the predictive samples per class.
  public var predictiveMean: [Double]
  /// The standard deviation of the predictive samples per class.
  public var predictiveSpread: [Double]
  /// Entropy of the predictive mean (nats).
  public var predictiveEntropy: Double
  /// Mean entropy of the samples (nats).
  public var expectedEntropy: Double

  /// Creates an image entry.
  public init(
    index: Int,
    label: Int,
    score: Double,
    rank: Int,
    acquired: Bool,
    pixels: [Float],
    side: Int,
    deterministic: [Double],
    predictiveMean: [Double],
    predictiveSpread: [Double],
    predictiveEntropy: Double,
    expectedEntropy: Double
  ) {
    self.index = index
    self.label = label
    self.score = score
    self.rank = rank
    self.acquired = acquired
    self.pixels = pixels
    self.side = side
    self.deterministic = deterministic
    self.predictiveMean = predictiveMean
    self.predictiveSpread = predictiveSpread
    self.predictiveEntropy = predictiveEntropy
    self.expectedEntropy = expectedEntropy
  }

  /// The mutual information (BALD): predictive entropy minus expected entropy.
  public var bald: Double { max(0, predictiveEntropy - expectedEntropy) }
}

/// Everything an inspection page of one round of one cell shows.
public struct InspectionData: Sendable, Equatable {
  /// Target, cell, round and profile, as named on the command line.
  public var target: String
  /// The cell, e.g. `bald.bayesian.r0`.
  public var cell: String
  /// The round.
  public var round: Int
  /// The profile.
  public var profile: String
  /// The acquisition function's display name.
  public var acquisition: String
  /// The uncertainty source's display name.
  public var model: String
  /// How the predictive samples were drawn, in words (e.g. `T = 100 MC-dropout passes`).
  public var samplesText: String
  /// What the deterministic bar shows, in words: `dropout off` for one network, `member 0,
  /// dropout off` for an ensemble (one of its networks, as a single network would predict).
  public var deterministicText: String
  /// The class names.
  public var classNames: [String]
  /// Every score of the scored subset.
  public var subsetScores: [Double]
  /// The labelled set the round trained on, per class.
  public var labelledCounts: [Int]
  /// The images this round acquired, per class.
  public var acquiredCounts: [Int]
  /// The acquired images (in acquisition order), then a few of the lowest-scored.
  public var images: [InspectedImage]
  /// The command that renders this page.
  public var command: String

  /// Creates the page data.
  public init(
    target: String,
    cell: String,
    round: Int,
    profile: String,
    acquisition: String,
    model: String,
    samplesText: String,
    deterministicText: String = "dropout off",
    classNames: [String],
    subsetScores: [Double],
    labelledCounts: [Int],
    acquiredCounts: [Int],
    images: [InspectedImage],
    command: String
  ) {
    self.target = target
    self.cell = cell
    self.round = round
    self.profile = profile
    self.acquisition = acquisition
    self.model = model
    self.samplesText = samplesText
    self.deterministicText = deterministicText
    self.classNames = classNames
    self.subsetScores = subsetScores
    self.labelledCounts = labelledCounts
    self.acquiredCounts = acquiredCounts
    self.images = images
    self.command = command
  }

  /// The base name of the page's files: `<target>-<cell>-r<round>`.
  public var fileName: String { "\(target)-\(cell)-r\(round)" }
}

/// Renders an inspection page as Markdown (tables) and a self-contained HTML page (inline CSS
/// and SVG: no scripts, no external references), deterministically.
///
/// Images are drawn as SVG: one grey square per non-black pixel on a black 28 x 28 canvas,
/// scaled up, so that the page needs no image codec and stays text.
public enum InspectionPage {
  /// `(markdown, html)` of the page.
  public static func render(_ data: InspectionData) -> (markdown: String, html: String) {
    (markdown(data), html(data))
  }

  private static func f(_ value: Double, _ digits: Int = 3) -> String {
    TextFormatting.fixed(value, digits: digits)
  }
  private static func esc(_ text: String) -> String { TextFormatting.xmlEscaped(text) }

  private static func title(_ data: InspectionData) -> String {
    "Round \(data.round) of \(data.cell) (\(data.target), profile \(data.profile))"
  }

  // MARK: - Markdown

  static func markdown(_ data: InspectionData) -> String {
    var md = "# \(title(data))\n\n"
    md +=
      "Acquisition: \(data.acquisition); model: \(data.model); predictive samples: "
      + "\(data.samplesText). Scored subset: \(data.subsetScores.count) pool images. "
      + "The HTML page shows the images and bar charts. Rendered by `\(data.command)`.\n\n"
    md += "## Acquired and lowest-scored images\n\n"
    md +=
      "| Image | Acquired | True label | Score | Rank | Deterministic argmax (p; "
      + "\(data.deterministicText)) | Predictive argmax (mean p) | Predictive entropy | "
      + "Expected entropy | BALD |\n"
    md += "|---|---|---|---|---|---|---|---|---|---|\n"
    for image in data.images {
      let det = argmax(image.deterministic)
      let mc = argmax(image.predictiveMean)
      md +=
        "| \(image.index) | \(image.acquired ? "yes" : "no") | \(data.classNames[image.label]) | "
        + "\(f(image.score, 4)) | \(image.rank) | \(data.classNames[det]) "
        + "(\(f(image.deterministic[det]))) | \(data.classNames[mc]) "
        + "(\(f(image.predictiveMean[mc]))) | \(f(image.predictiveEntropy)) | "
        + "\(f(image.expectedEntropy)) | \(f(image.bald)) |\n"
    }
    md += "\n## Labelled set by class\n\n| Class | Labelled (trained on) | Acquired this round |\n"
    md += "|---|---|---|\n"
    for (c, name) in data.classNames.enumerated() {
      md += "| \(name) | \(data.labelledCounts[c]) | \(data.acquiredCounts[c]) |\n"
    }
    return md
  }

  private static func argmax(_ values: [Double]) -> Int {
    var best = 0
    for c in values.indices where values[c] > values[best] { best = c }
    return best
  }

  // MARK: - HTML

  static func html(_ data: InspectionData) -> String {
    var h = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"
    h += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n"
    h += "<title>\(esc(title(data)))</title>\n<style>\n" + css + "</style>\n</head>\n<body>\n"
    h += "<h1>\(esc(title(data)))</h1>\n"
    h +=
      "<p>Acquisition: <strong>\(esc(data.acquisition))</strong>; model: "
      + "<strong>\(esc(data.model))</strong>; predictive samples: \(esc(data.samplesText)). "
      + "Scored subset: \(data.subsetScores.count) pool images. Rendered by "
      + "<code>\(esc(data.command))</code>.</p>\n"
    let acquired = data.images.filter(\.acquired)
    h += "<h2>Acquired this round (\(acquired.count))</h2>\n<div class=\"gallery\">\n"
    for image in acquired { h += card(image, data) }
    h += "</div>\n"
    let lowest = data.images.filter { !$0.acquired }
    if !lowest.isEmpty {
      h +=
        "<h2>The \(lowest.count) lowest-scored images of the subset</h2>\n"
        + "<div class=\"gallery\">\n"
      for image in lowest { h += card(image, data) }
      h += "</div>\n"
    }
    h += "<p class=\"legend\">Bars per class: <span class=\"det\">deterministic softmax "
    h +=
      "(\(esc(data.deterministicText)))</span> beside <span class=\"mc\">the mean of the predictive samples</span>"
    h += " with a whisker of ±1 standard deviation over the samples; the true class is bold. "
    h += "H: predictive entropy (of the mean), E[H]: expected entropy (mean over samples), "
    h += "BALD = H - E[H], all in nats.</p>\n"
    h += "<h2>Scores of the scored subset</h2>\n" + histogram(data) + "\n"
    h += "<h2>Labelled set by class</h2>\n" + classHistogram(data) + "\n"
    h += "</body>\n</html>\n"
    return h
  }

  private static let css = """
    body { font-family: Helvetica, Arial, sans-serif; margin: 1.5em; color: #222; }
    .gallery { display: flex; flex-wrap: wrap; gap: 10px; }
    .card { border: 1px solid #ccc; border-radius: 4px; padding: 6px; width: 300px; }
    .card.acquired { border-color: #d62728; }
    .card p { margin: 2px 0; font-size: 12px; }
    .det { color: #1f77b4; } .mc { color: #d62728; }
    .legend { font-size: 13px; color: #444; }
    code { background: #f4f4f4; padding: 1px 3px; }

    """

  private static func card(_ image: InspectedImage, _ data: InspectionData) -> String {
    var h =
      "<div class=\"card\(image.acquired ? " acquired" : "")\" data-index=\"\(image.index)\">\n"
    h += digit(image) + bars(image, data) + "\n"
    h +=
      "<p>image \(image.index), true label <strong>\(esc(data.classNames[image.label]))"
      + "</strong></p>\n"
    h +=
      "<p>score \(f(image.score, 4)), rank \(image.rank) of \(data.subsetScores.count)</p>\n"
    h +=
      "<p>H \(f(image.predictiveEntropy)), E[H] \(f(image.expectedEntropy)), BALD "
      + "\(f(image.bald))</p>\n</div>\n"
    return h
  }

  /// The image as an SVG of grey squares, 3x scaled.
  static func digit(_ image: InspectedImage) -> String {
    let side = image.side
    let scale = 3
    var svg =
      "<svg class=\"digit\" width=\"\(side * scale)\" height=\"\(side * scale)\" "
      + "viewBox=\"0 0 \(side) \(side)\" shape-rendering=\"crispEdges\" role=\"img\">"
      + "<title>training image \(image.index)</title>"
      + "<rect width=\"\(side)\" height=\"\(side)\" fill=\"#000000\"/>"
    for (i, value) in image.pixels.enumerated() where value > 0.02 {
      let grey = Int((min(max(value, 0), 1) * 255).rounded())
      let hex = String(format: "#%02x%02x%02x", grey, grey, grey)
      svg += "<rect x=\"\(i % side)\" y=\"\(i / side)\" width=\"1\" height=\"1\" fill=\"\(hex)\"/>"
    }
    return svg + "</svg>"
  }

  /// Two bars per class (deterministic, predictive mean with a ±1 sd whisker).
  private static func bars(_ image: InspectedImage, _ data: InspectionData) -> String {
    let classes = data.classNames.count
    let (width, height, bottom) = (210.0, 84.0, 70.0)
    let slot = width / Double(max(classes, 1))
    let scale = bottom - 6
    var svg =
      "<svg class=\"bars\" width=\"\(Int(width))\" height=\"\(Int(height))\" "
      + "viewBox=\"0 0 \(Int(width)) \(Int(height))\" font-size=\"10\" role=\"img\">"
      + "<title>class probabilities of image \(image.index)</title>"
      + "<line x1=\"0\" y1=\"\(f(bottom, 2))\" x2=\"\(Int(width))\" y2=\"\(f(bottom, 2))\" "
      + "stroke=\"#999999\"/>"
    for c in 0..<classes {
      let x = Double(c) * slot
      let det = image.deterministic[c] * scale
      let mc = image.predictiveMean[c] * scale
      svg +=
        "<rect x=\"\(f(x + 2, 2))\" y=\"\(f(bottom - det, 2))\" width=\"\(f(slot / 2 - 2, 2))\" "
        + "height=\"\(f(det, 2))\" fill=\"#1f77b4\"/>"
      svg +=
        "<rect x=\"\(f(x + slot / 2, 2))\" y=\"\(f(bottom - mc, 2))\" "
        + "width=\"\(f(slot / 2 - 2, 2))\" height=\"\(f(mc, 2))\" fill=\"#d62728\"/>"
      let low = max(0, image.predictiveMean[c] - image.predictiveSpread[c]) * scale
      let high = min(1, image.predictiveMean[c] + image.predictiveSpread[c]) * scale
      let cx = x + slot * 3 / 4 - 1
      svg +=
        "<line x1=\"\(f(cx, 2))\" y1=\"\(f(bottom - low, 2))\" x2=\"\(f(cx, 2))\" "
        + "y2=\"\(f(bottom - high, 2))\" stroke=\"#000000\" stroke-width=\"1\"/>"
      let weight = c == image.label ? " font-weight=\"bold\"" : ""
      svg +=
        "<text x=\"\(f(x + slot / 2, 2))\" y=\"\(f(bottom + 11, 2))\" text-anchor=\"middle\""
        + "\(weight)>\(esc(data.classNames[c]))</text>"
    }
    return svg + "</svg>"
  }

  /// 20 equal-width bins from the lowest to the highest score; acquired images marked.
  private static func histogram(_ data: InspectionData) -> String {
    let scores = data.subsetScores
    guard let low = scores.min(), let high = scores.max() else { return "<p>no scores</p>" }
    let bins = 20
    let span = high > low ? high - low : 1
    func bin(_ s: Double) -> Int { min(bins - 1, Int((s - low) / span * Double(bins))) }
    var counts = [Int](repeating: 0, count: bins)
    for s in scores { counts[bin(s)] += 1 }
    let (width, height, left, bottom) = (520.0, 190.0, 40.0, 150.0)
    let plot = width - left - 10
    let top = Double(counts.max() ?? 1)
    var svg =
      "<svg class=\"histogram\" width=\"\(Int(width))\" height=\"\(Int(height))\" "
      + "viewBox=\"0 0 \(Int(width)) \(Int(height))\" font-size=\"11\" role=\"img\">"
      + "<title>scores of the scored subset</title>"
    for (b, count) in counts.enumerated() {
      let h = Double(count) / top * (bottom - 10)
      svg +=
        "<rect x=\"\(f(left + Double(b) * plot / Double(bins), 2))\" y=\"\(f(bottom - h, 2))\" "
        + "width=\"\(f(plot / Double(bins) - 1, 2))\" height=\"\(f(h, 2))\" fill=\"#9e9e9e\"/>"
    }
    for image in data.images where image.acquired {
      let x = left + (image.score - low) / span * plot
      svg +=
        "<line class=\"acquired-mark\" x1=\"\(f(x, 2))\" y1=\"\(f(bottom, 2))\" "
        + "x2=\"\(f(x, 2))\" y2=\"\(f(bottom + 8, 2))\" stroke=\"#d62728\" stroke-width=\"2\"/>"
    }
    svg +=
      "<line x1=\"\(f(left, 2))\" y1=\"\(f(bottom, 2))\" x2=\"\(f(left + plot, 2))\" "
      + "y2=\"\(f(bottom, 2))\" stroke=\"#555555\"/>"
      + "<text x=\"\(f(left, 2))\" y=\"\(f(bottom + 22, 2))\">\(f(low, 4))</text>"
      + "<text x=\"\(f(left + plot, 2))\" y=\"\(f(bottom + 22, 2))\" text-anchor=\"end\">"
      + "\(f(high, 4))</text>"
      + "<text x=\"\(f(left + plot / 2, 2))\" y=\"\(f(bottom + 36, 2))\" text-anchor=\"middle\">"
      + "acquisition score (\(esc(data.acquisition))); red ticks: acquired</text>"
      + "<text x=\"4\" y=\"14\">\(Int(top))</text>"
    return svg + "</svg>"
  }

  /// The labelled set the round trained on per class, with this round's acquisitions on top.
  private static func classHistogram(_ data: InspectionData) -> String {
    let classes = data.classNames.count
    let (width, height, bottom) = (360.0, 170.0, 140.0)
    let slot = (width - 20) / Double(max(classes, 1))
    let top = Double(
      zip(data.labelledCounts, data.acquiredCounts).map { $0 + $1 }.max() ?? 1
    )
    var svg =
      "<svg class=\"classes\" width=\"\(Int(width))\" height=\"\(Int(height))\" "
      + "viewBox=\"0 0 \(Int(width)) \(Int(height))\" font-size=\"11\" role=\"img\">"
      + "<title>labelled set by class</title>"
    for c in 0..<classes {
      let x = 10 + Double(c) * slot
      let l = Double(data.labelledCounts[c]) / max(top, 1) * (bottom - 20)
      let a = Double(data.acquiredCounts[c]) / max(top, 1) * (bottom - 20)
      svg +=
        "<rect x=\"\(f(x + 2, 2))\" y=\"\(f(bottom - l, 2))\" width=\"\(f(slot - 4, 2))\" "
        + "height=\"\(f(l, 2))\" fill=\"#1f77b4\"/>"
        + "<rect x=\"\(f(x + 2, 2))\" y=\"\(f(bottom - l - a, 2))\" width=\"\(f(slot - 4, 2))\" "
        + "height=\"\(f(a, 2))\" fill=\"#d62728\"/>"
        + "<text x=\"\(f(x + slot / 2, 2))\" y=\"\(f(bottom + 13, 2))\" text-anchor=\"middle\">"
        + "\(esc(data.classNames[c]))</text>"
        + "<text x=\"\(f(x + slot / 2, 2))\" y=\"\(f(bottom - l - a - 3, 2))\" "
        + "text-anchor=\"middle\">\(data.labelledCounts[c])+\(data.acquiredCounts[c])</text>"
    }
    svg +=
      "<text x=\"10\" y=\"\(f(height - 2, 2))\">blue: labelled (trained on); red: acquired this "
      + "round</text>"
    return svg + "</svg>"
  }
}
