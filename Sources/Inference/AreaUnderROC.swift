/// The area under the ROC curve of `scores` for telling the `positives` (higher scores) from the
/// rest: the probability that a positive outscores a negative, ties counting one half
/// (the Mann-Whitney U statistic over the product of the two counts). Nil without both kinds.
public func areaUnderROC(scores: [Double], positives: [Bool]) -> Double? {
    let positiveCount = positives.filter { $0 }.count, negativeCount = positives.count - positiveCount
    guard scores.count == positives.count, positiveCount > 0, negativeCount > 0 else { return nil }
    let order = scores.indices.sorted { scores[$0] < scores[$1] }
    var rankSum = 0.0, start = 0
    while start < order.count {
        var end = start
        while end + 1 < order.count, scores[order[end + 1]] == scores[order[start]] { end += 1 }
        let averageRank = Double(start + end) / 2 + 1
        for index in order[start...end] where positives[index] { rankSum += averageRank }
        start = end + 1
    }
    let u = rankSum - Double(positiveCount) * Double(positiveCount + 1) / 2
    return u / (Double(positiveCount) * Double(negativeCount))
}
