import Acquisition
import Foundation
import PipelineCore
import Reports
import TestSupport
import Testing

@testable import Experiments

#if canImport(FoundationXML)
  import FoundationXML
#endif

/// The inspection of a round, in-process on a smoke loop. In ``SmokeLoopTests``' serialized
/// suite: two in-process loops at once would wait on each other for the cooperative threads.
extension SmokeLoopTests {
  /// For every uncertainty source: an MC-dropout cell, a deep ensemble (whose deterministic
  /// bar is member 0's pass, not the members' mean, which is the predictive mean itself) and a
  /// deterministic cell (scored by one pass, shown with T MC-dropout passes of its network).
  @Test(
    .enabled(if: TestSupport.mnistMirror != nil, "needs the MNIST mirror (DBAL_MNIST_MIRROR)"),
    arguments: [UncertaintySource.mcDropout, .deepEnsemble, .deterministic]
  )
  func inspectionShowsExactlyTheAcquiredImagesAsAWellFormedSelfContainedPage(
    source: UncertaintySource
  ) throws {
    let directory = try TestSupport.temporaryDirectory("dbal-inspect")
    defer { try? FileManager.default.removeItem(at: directory) }
    let profile = Profile.smoke.applying([
      try ProfileOverride(parsing: "rounds=2"), try ProfileOverride(parsing: "ensemble-size=3"),
    ])
    let cell = Cell(acquisition: .bald, model: source, repetition: 0)
    let plan = try ExperimentPlan(
      target: "inspect-test",
      profile: profile,
      cells: [cell],
      resources: ExperimentResources()
    )
    let node = RoundInspection.node(
      plan: plan,
      cell: cell,
      round: 1,
      resources: ExperimentResources()
    )
    var graph = plan.graph
    try graph.add(node)
    let runner = PipelineRunner(
      store: try ArtifactStore(root: directory.appendingPathComponent("cache")),
      toolVersion: "test",
      settings: ["data-dir": directory.path, "mnist-mirror": TestSupport.mnistMirror!.path]
    )
    try runner.run(graph, recordAs: "inspect-test")
    let statuses = try runner.status(graph)
    func artifact(_ id: StageID, _ name: String) throws -> URL {
      guard case .cached(let key)? = statuses[id] else { throw CancellationError() }
      return try runner.store.verifiedArtifactURL(key: key, name: name)
    }
    let acquiredSet = try LabelledSet(
      contentsOf: try artifact(ExperimentPlan.stageID(cell, round: 1, "acquire"), "labelled")
    )
    let scores = try PoolScores(
      contentsOf: try artifact(ExperimentPlan.stageID(cell, round: 1, "score"), "scores")
    )
    let page = try RoundInspection.page(
      plan: plan,
      cell: cell,
      round: 1,
      inspection: try artifact(node.id, "inspection"),
      command: "pipeline inspect inspect-test --cell \(cell) --round 1"
    )
    #expect(page.images.filter(\.acquired).map(\.index) == acquiredSet.acquired)
    #expect(page.images.filter { !$0.acquired }.count == RoundInspection.lowestShown)
    #expect(page.images.filter(\.acquired).map(\.rank) == Array(1...acquiredSet.acquired.count))
    #expect(page.subsetScores == scores.scores)
    // Ranks and scores agree with the scored subset; the acquired are its top K.
    for image in page.images {
      let position = try #require(scores.subset.firstIndex(of: image.index))
      #expect(image.score == scores.scores[position])
      // Ties (every score of a deterministic BALD cell is 0) are ranked by the seeded draw.
      let above = scores.scores.filter { $0 > image.score }.count
      let tied = scores.scores.filter { $0 == image.score }.count
      #expect((above + 1...above + tied).contains(image.rank), "image \(image.index)")
      #expect(abs(image.predictiveMean.reduce(0, +) - 1) < 1e-4)
      #expect(image.predictiveEntropy + 1e-9 >= image.expectedEntropy)
      #expect(abs(image.deterministic.reduce(0, +) - 1) < 1e-4)
      if source == .deterministic {
        // BALD of one dropout-off pass is 0 for every image (random selection); the page's
        // MC-dropout view of the same network has mutual information of its own.
        #expect(image.score == 0)
      } else {
        // The page's samples are those the round was scored with: its BALD is the score.
        #expect(abs(image.bald - image.score) < 1e-9, "image \(image.index)")
      }
    }
    switch source {
    case .deterministic:
      #expect(page.images.contains { $0.bald > 1e-6 }, "T MC-dropout passes disagree somewhere")
    case .deepEnsemble:
      #expect(page.deterministicText == "member 0, dropout off")
      // One member's softmax, not the mean of the 3 (which is the predictive mean).
      #expect(
        page.images.contains { image in
          zip(image.deterministic, image.predictiveMean).contains { abs($0 - $1) > 1e-6 }
        }
      )
    case .mcDropout:
      #expect(page.deterministicText == "dropout off")
    case .harmonic:
      Issue.record("a harmonic cell has no network to inspect")
    }
    #expect(page.acquiredCounts.reduce(0, +) == acquiredSet.acquired.count)
    #expect(
      page.labelledCounts.reduce(0, +) == acquiredSet.labelled.count - acquiredSet.acquired.count
    )

    let (markdown, html) = InspectionPage.render(page)
    // The gallery of acquired images: exactly the acquire stage's indices, in its order.
    let acquiredCards = html.matches(of: /<div class="card acquired" data-index="(\d+)">/)
      .map { Int($0.output.1)! }
    #expect(acquiredCards == acquiredSet.acquired)
    // Well-formed (an XML parser reads it whole) and self-contained.
    let parser = XMLParser(data: Data(html.utf8))
    #expect(parser.parse(), "\(parser.parserError.map { "\($0)" } ?? "")")
    for forbidden in ["<script", "http", "<link", "@import", "url(", "<img"] {
      #expect(!html.contains(forbidden), "found \(forbidden)")
    }
    #expect(html.components(separatedBy: "<svg class=\"digit\"").count - 1 == page.images.count)
    #expect(markdown.contains("| \(acquiredSet.acquired[0]) | yes |"))
  }
}
