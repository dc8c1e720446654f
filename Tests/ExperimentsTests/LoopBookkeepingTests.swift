import NeuralEngine
import Reports
import Testing

@testable import Experiments

/// Labels with `perClass` images of every digit, in a fixed interleaved order.
func syntheticLabels(perClass: Int) -> [Int] {
  (0..<(perClass * 10)).map { $0 % 10 }
}

@Test(arguments: [0, 1, 2])
func splitIsBalancedDisjointAndCovering(seed: UInt64) throws {
  let labels = syntheticLabels(perClass: 50)
  var generator = SeededGenerator(seed: seed)
  let set = try SplitStage.split(
    labels: labels,
    classes: 10,
    validation: 100,
    initialPerClass: 2,
    generator: &generator
  )
  #expect(set.labelled.count == 20)
  #expect(set.validation.count == 100)
  #expect(set.pool.count == 500 - 120)
  for digit in 0..<10 { #expect(set.labelled.filter { labels[$0] == digit }.count == 2) }
  try set.validate(trainingCount: labels.count, file: "test")
}

@Test func splitDependsOnlyOnTheSeed() throws {
  let labels = syntheticLabels(perClass: 50)
  var a = SeededGenerator(seed: 9)
  var b = SeededGenerator(seed: 9)
  var c = SeededGenerator(seed: 10)
  let first = try SplitStage.split(
    labels: labels,
    classes: 10,
    validation: 10,
    initialPerClass: 2,
    generator: &a
  )
  #expect(
    first
      == (try SplitStage.split(
        labels: labels,
        classes: 10,
        validation: 10,
        initialPerClass: 2,
        generator: &b
      ))
  )
  #expect(
    first
      != (try SplitStage.split(
        labels: labels,
        classes: 10,
        validation: 10,
        initialPerClass: 2,
        generator: &c
      ))
  )
}

@Test func acquisitionMapsSubsetPositionsToPoolIndicesAndShrinksThePool() throws {
  let previous = LabelledSet(labelled: [0, 1], pool: Array(2..<100), validation: [100, 101])
  // The scored subset is a sparse part of the pool; scores favour its last entries.
  let subset = [5, 17, 42, 63, 88, 99]
  let scores = [0.1, 0.2, 0.3, 0.4, 0.9, 0.8]
  let next = try AcquireStage.acquire(
    from: previous,
    subset: subset,
    scores: scores,
    count: 2,
    seed: 1,
    file: "test"
  )
  #expect(next.acquired == [88, 99], "indices refer to the pool, not to subset positions")
  #expect(next.labelled == [0, 1, 88, 99])
  #expect(next.pool.count == previous.pool.count - 2)
  #expect(!next.pool.contains(88) && !next.pool.contains(99))
  try next.validate(trainingCount: 102, file: "test")
}

@Test func acquisitionRejectsScoresOfPointsOutsideThePool() {
  let previous = LabelledSet(labelled: [0], pool: [1, 2, 3], validation: [])
  #expect(throws: ExperimentError.self) {
    try AcquireStage.acquire(
      from: previous,
      subset: [0, 1],
      scores: [1, 0],
      count: 1,
      seed: 0,
      file: "test"
    )
  }
}

@Test func validationCatchesDuplicatesAndGaps() {
  let duplicate = LabelledSet(labelled: [0, 1], pool: [1, 2], validation: [])
  #expect(throws: ExperimentError.self) { try duplicate.validate(trainingCount: 3, file: "t") }
  let gap = LabelledSet(labelled: [0], pool: [2], validation: [])
  #expect(throws: ExperimentError.self) { try gap.validate(trainingCount: 3, file: "t") }
}

@Test func crossingInterpolatesBetweenRounds() {
  func point(_ acquired: Int, _ accuracy: Double) -> CurvePoint {
    CurvePoint(
      acquired: acquired,
      labelled: acquired + 20,
      accuracyMC: accuracy,
      accuracyDeterministic: accuracy
    )
  }
  let curve = [point(0, 0.70), point(10, 0.86), point(20, 0.94), point(30, 0.96)]
  // 90% accuracy lies halfway between 0.86 (10 acquired) and 0.94 (20 acquired).
  #expect(isCloseTo(ExperimentResults.crossing(curve, errorPercent: 10)!, 15))
  #expect(isCloseTo(ExperimentResults.crossing(curve, errorPercent: 5)!, 25))
  #expect(ExperimentResults.crossing(curve, errorPercent: 1) == nil)
  #expect(ExperimentResults.crossing(curve, errorPercent: 40) == 0)
}

func isCloseTo(_ a: Double, _ b: Double) -> Bool { abs(a - b) < 1e-9 }
