import Foundation

/// COCO keypoint AP / AR, computed as pycocotools' `COCOeval(iouType="keypoints")` does: OKS with
/// per-keypoint sigmas, OKS thresholds 0.50:0.05:0.95, 101 recall points, at most 20 detections per
/// image (highest score first), area ranges all / medium / large, crowd and `num_keypoints == 0`
/// ground truth ignored, unmatched detections outside an area range ignored.
public enum COCOKeypointEvaluation {
    /// COCO-17 keypoint sigmas (pycocotools `kpt_oks_sigmas`); PoseTrack18 uses the same.
    public static let cocoSigmas: [Double] = [0.26, 0.25, 0.25, 0.35, 0.35, 0.79, 0.79, 0.72, 0.72, 0.62, 0.62,
                                              1.07, 1.07, 0.87, 0.87, 0.89, 0.89].map { $0 / 10.0 }

    /// The ten numbers pycocotools' `summarize()` prints for keypoints, in its order.
    public struct Summary: Sendable, Equatable, Codable {
        public var ap, ap50, ap75, apMedium, apLarge: Double
        public var ar, ar50, ar75, arMedium, arLarge: Double
        /// pycocotools' `stats` array order.
        public var stats: [Double] { [ap, ap50, ap75, apMedium, apLarge, ar, ar50, ar75, arMedium, arLarge] }

        enum CodingKeys: String, CodingKey {
            case ap = "AP", ap50 = "AP50", ap75 = "AP75", apMedium = "APm", apLarge = "APl"
            case ar = "AR", ar50 = "AR50", ar75 = "AR75", arMedium = "ARm", arLarge = "ARl"
        }
    }

    // numpy's linspace arithmetic, so that threshold comparisons tie exactly as in pycocotools.
    static let oksThresholds: [Double] = {
        let step = (0.95 - 0.5) / 9.0
        return (0..<10).map { $0 == 9 ? 0.95 : Double($0) * step + 0.5 }
    }()
    static let recallThresholds: [Double] = (0...100).map { $0 == 100 ? 1.0 : Double($0) * (1.0 / 100.0) }
    static let areaRanges: [(Double, Double)] = [(0, 1e10), (32 * 32, 96 * 96), (96 * 96, 1e10)]
    static let maxDetections = 20

    /// Object keypoint similarity of a detection to a ground-truth person (pycocotools `computeOks`).
    static func oks(_ d: [Double], _ g: GroundTruth.Person, sigmas: [Double]) -> Double {
        let k = sigmas.count
        let visible = (0..<k).filter { g.keypoints[3 * $0 + 2] > 0 }
        let b = g.bbox
        let x0 = b[0] - b[2], x1 = b[0] + b[2] * 2, y0 = b[1] - b[3], y1 = b[1] + b[3] * 2
        var sum = 0.0
        let used = visible.isEmpty ? Array(0..<k) : visible
        for i in used {
            let dx: Double, dy: Double
            if visible.isEmpty {
                // No labelled keypoint: distance to the doubled box (the ignore region).
                let xd = d[3 * i], yd = d[3 * i + 1]
                dx = max(0, x0 - xd) + max(0, xd - x1)
                dy = max(0, y0 - yd) + max(0, yd - y1)
            } else {
                dx = d[3 * i] - g.keypoints[3 * i]
                dy = d[3 * i + 1] - g.keypoints[3 * i + 1]
            }
            let variance = (sigmas[i] * 2) * (sigmas[i] * 2)
            let e = (dx * dx + dy * dy) / variance / (g.area + Double.ulpOfOne) / 2
            sum += exp(-e)
        }
        return sum / Double(used.count)
    }

    /// One image's matching for one area range (pycocotools `evaluateImg`).
    struct ImageMatches {
        var scores: [Double]          // detections, best first
        var matchedGT: [[Int]]        // [threshold][detection] ground-truth id, 0 = unmatched
        var ignoredDetection: [[Bool]]
        var ignoredGT: [Bool]
    }

    /// Evaluates `predictions` against the labelled images of `gt`.
    public static func evaluate(_ gt: GroundTruth, _ predictions: [Prediction], sigmas: [Double] = cocoSigmas) throws -> Summary {
        guard gt.keypointCount == sigmas.count else {
            throw EvaluationError("\(gt.path): COCO keypoint AP needs \(sigmas.count) keypoints per person, the file has \(gt.keypointCount)")
        }
        let imageIDs = Array(Set(gt.labeledImages.map(\.id))).sorted()
        let wanted = Set(imageIDs)
        var gts: [Int: [GroundTruth.Person]] = [:]
        for p in gt.persons where wanted.contains(p.imageID) { gts[p.imageID, default: []].append(p) }
        var dts: [Int: [Prediction]] = [:]
        for p in predictions where wanted.contains(p.imageID) { dts[p.imageID, default: []].append(p) }

        // Detections best first (a stable sort, as numpy's mergesort), at most 20 per image.
        var sortedDts: [Int: [Prediction]] = [:]
        var oksTables: [Int: [[Double]]] = [:]
        for id in imageIDs {
            let d = stableSortedByScore(dts[id] ?? []).prefix(maxDetections)
            sortedDts[id] = Array(d)
            let g = gts[id] ?? []
            if !g.isEmpty, !d.isEmpty { oksTables[id] = d.map { det in g.map { oks(det.keypoints, $0, sigmas: sigmas) } } }
        }

        var perArea: [[ImageMatches]] = []
        for range in areaRanges {
            var list: [ImageMatches] = []
            for id in imageIDs {
                if let m = evaluateImage(gts[id] ?? [], sortedDts[id] ?? [], oks: oksTables[id], range: range) { list.append(m) }
            }
            perArea.append(list)
        }

        // precision[area][threshold][recall point], recall[area][threshold]; -1 where no ground truth.
        var precision = Array(repeating: Array(repeating: Array(repeating: -1.0, count: recallThresholds.count), count: oksThresholds.count), count: areaRanges.count)
        var recall = Array(repeating: Array(repeating: -1.0, count: oksThresholds.count), count: areaRanges.count)
        for (a, images) in perArea.enumerated() where !images.isEmpty {
            let scores = images.flatMap(\.scores)
            let order = scores.indices.sorted { scores[$0] > scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }
            let positives = images.reduce(0) { $0 + $1.ignoredGT.filter { !$0 }.count }
            if positives == 0 { continue }
            for t in oksThresholds.indices {
                let matched = images.flatMap { $0.matchedGT[t] }
                let ignored = images.flatMap { $0.ignoredDetection[t] }
                var tp = 0.0, fp = 0.0
                var rc: [Double] = [], pr: [Double] = []
                for i in order {
                    if ignored[i] { rc.append(tp / Double(positives)); pr.append(tp / (fp + tp + Double.ulpOfOne)); continue }
                    if matched[i] != 0 { tp += 1 } else { fp += 1 }
                    rc.append(tp / Double(positives))
                    pr.append(tp / (fp + tp + Double.ulpOfOne))
                }
                recall[a][t] = rc.last ?? 0
                var i = pr.count - 1
                while i > 0 { if pr[i] > pr[i - 1] { pr[i - 1] = pr[i] }; i -= 1 }
                var q = Array(repeating: 0.0, count: recallThresholds.count)
                for (r, threshold) in recallThresholds.enumerated() {
                    // numpy searchsorted(side="left"): the first recall ≥ the threshold.
                    var lo = 0, hi = rc.count
                    while lo < hi { let mid = (lo + hi) / 2; if rc[mid] < threshold { lo = mid + 1 } else { hi = mid } }
                    if lo >= pr.count { break }
                    q[r] = pr[lo]
                }
                precision[a][t] = q
            }
        }

        func meanAP(area: Int, threshold: Double?) -> Double {
            let ts = threshold.map { t in oksThresholds.indices.filter { oksThresholds[$0] == t } } ?? Array(oksThresholds.indices)
            let values = ts.flatMap { precision[area][$0] }.filter { $0 > -1 }
            return values.isEmpty ? -1 : values.reduce(0, +) / Double(values.count)
        }
        func meanAR(area: Int, threshold: Double?) -> Double {
            let ts = threshold.map { t in oksThresholds.indices.filter { oksThresholds[$0] == t } } ?? Array(oksThresholds.indices)
            let values = ts.map { recall[area][$0] }.filter { $0 > -1 }
            return values.isEmpty ? -1 : values.reduce(0, +) / Double(values.count)
        }
        return Summary(ap: meanAP(area: 0, threshold: nil), ap50: meanAP(area: 0, threshold: 0.5), ap75: meanAP(area: 0, threshold: 0.75),
                       apMedium: meanAP(area: 1, threshold: nil), apLarge: meanAP(area: 2, threshold: nil),
                       ar: meanAR(area: 0, threshold: nil), ar50: meanAR(area: 0, threshold: 0.5), ar75: meanAR(area: 0, threshold: 0.75),
                       arMedium: meanAR(area: 1, threshold: nil), arLarge: meanAR(area: 2, threshold: nil))
    }

    static func stableSortedByScore(_ d: [Prediction]) -> [Prediction] {
        d.indices.sorted { d[$0].score > d[$1].score || (d[$0].score == d[$1].score && $0 < $1) }.map { d[$0] }
    }

    /// pycocotools `evaluateImg` for one image and area range; nil when the image has neither
    /// ground truth nor detections. `dts` are already best first and cut to 20.
    static func evaluateImage(_ gtAll: [GroundTruth.Person], _ dts: [Prediction], oks: [[Double]]?, range: (Double, Double)) -> ImageMatches? {
        if gtAll.isEmpty && dts.isEmpty { return nil }
        let ignoreFlags = gtAll.map { $0.isCrowd || $0.numKeypoints == 0 || $0.area < range.0 || $0.area > range.1 }
        // Ground truth not ignored first (stable).
        let gtOrder = gtAll.indices.filter { !ignoreFlags[$0] } + gtAll.indices.filter { ignoreFlags[$0] }
        let g = gtOrder.map { gtAll[$0] }
        let gIgnored = gtOrder.map { ignoreFlags[$0] }
        let T = oksThresholds.count
        var dtMatch = Array(repeating: Array(repeating: 0, count: dts.count), count: T)
        var dtIgnored = Array(repeating: Array(repeating: false, count: dts.count), count: T)
        if let oks {
            for t in 0..<T {
                var gtMatched = Array(repeating: false, count: g.count)
                for d in dts.indices {
                    var best = min(oksThresholds[t], 1 - 1e-10)
                    var m = -1
                    for j in g.indices {
                        if gtMatched[j] && !g[j].isCrowd { continue }
                        // Matched to a real person already: stop at the ignored ones.
                        if m > -1 && !gIgnored[m] && gIgnored[j] { break }
                        let value = oks[d][gtOrder[j]]
                        if value < best { continue }
                        best = value
                        m = j
                    }
                    if m == -1 { continue }
                    dtIgnored[t][d] = gIgnored[m]
                    dtMatch[t][d] = g[m].id
                    gtMatched[m] = true
                }
            }
        }
        for d in dts.indices where dts[d].area < range.0 || dts[d].area > range.1 {
            for t in 0..<T where dtMatch[t][d] == 0 { dtIgnored[t][d] = true }
        }
        return ImageMatches(scores: dts.map(\.score), matchedGT: dtMatch, ignoredDetection: dtIgnored, ignoredGT: gIgnored)
    }
}
