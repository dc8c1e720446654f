/// Choosing which points to acquire from their scores.
public enum Selection {
  /// The indices of the `count` highest scores, best first: the first `count` of
  /// ``ranking(_:using:)`` (the same draws from `generator`).
  /// - Precondition: `0 <= count <= scores.count`.
  public static func topK(
    _ scores: [Double],
    count: Int,
    using generator: inout some RandomNumberGenerator
  ) -> [Int] {
    precondition(count >= 0 && count <= scores.count, "cannot take \(count) of \(scores.count)")
    return Array(ranking(scores, using: &generator).prefix(count))
  }

  /// Every index of `scores`, best first: the order ``topK(_:count:using:)`` takes from.
  ///
  /// Ties are broken by a random draw from `generator`, never by index order: every point gets
  /// an independent 64-bit tie-break key (one draw each, in index order), and points are
  /// ordered by (score descending, key ascending). With all scores equal (Random acquisition,
  /// or deterministic BALD, whose scores are all exactly 0) this is a uniformly random order.
  /// NaN scores rank last.
  public static func ranking(
    _ scores: [Double],
    using generator: inout some RandomNumberGenerator
  ) -> [Int] {
    let keys = scores.indices.map { _ in generator.next() }
    func precedes(_ a: Int, _ b: Int) -> Bool {
      let (sa, sb) = (scores[a], scores[b])
      if sa.isNaN != sb.isNaN { return sb.isNaN }
      if sa != sb && !sa.isNaN { return sa > sb }
      return keys[a] != keys[b] ? keys[a] < keys[b] : a < b
    }
    return scores.indices.sorted(by: precedes)
  }
}
