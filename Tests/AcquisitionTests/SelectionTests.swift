import Acquisition
import Testing

@Test func topKTakesHighestScoresBestFirst() {
  var generator = SystemLikeGenerator(seed: 1)
  let picked = Selection.topK([0.1, 0.9, 0.5, 0.7, 0.2], count: 3, using: &generator)
  #expect(picked == [1, 3, 2])
}

@Test func tiesAreBrokenRandomlyNotByIndex() {
  let scores = [Double](repeating: 0.5, count: 1000)
  var seen = Set<[Int]>()
  var firstIndices = 0
  for seed in 0..<20 {
    var generator = SystemLikeGenerator(seed: UInt64(seed))
    let picked = Selection.topK(scores, count: 10, using: &generator)
    #expect(Set(picked).count == 10)
    seen.insert(picked)
    firstIndices += picked.filter { $0 < 10 }.count
  }
  #expect(seen.count == 20, "different seeds must pick different tied points")
  #expect(firstIndices < 10, "index order must not decide ties")
}

@Test func sameSeedSameSelection() {
  let scores = (0..<500).map { Double($0 % 7) }
  var a = SystemLikeGenerator(seed: 99)
  var b = SystemLikeGenerator(seed: 99)
  #expect(
    Selection.topK(scores, count: 10, using: &a) == Selection.topK(scores, count: 10, using: &b)
  )
}

@Test func nanScoresRankLast() {
  var generator = SystemLikeGenerator(seed: 3)
  let picked = Selection.topK([.nan, 0.1, .nan, 0.2], count: 3, using: &generator)
  #expect(picked.prefix(2) == [3, 1])
}

@Test func theRankingIsTheOrderTopKTakesFromTiesIncluded() {
  let scores = (0..<300).map { Double($0 % 4) }  // 75 ties of each value
  var a = SystemLikeGenerator(seed: 7)
  var b = SystemLikeGenerator(seed: 7)
  let ranking = Selection.ranking(scores, using: &a)
  #expect(Array(ranking.prefix(20)) == Selection.topK(scores, count: 20, using: &b))
  #expect(Set(ranking) == Set(scores.indices), "every index once")
  #expect(ranking.prefix(75).allSatisfy { scores[$0] == 3 })
  #expect(ranking.suffix(75).allSatisfy { scores[$0] == 0 })
}
