import Foundation

/// PCK as mmpose 0.x reports it for top-down datasets (`_report_metric` "PCK" →
/// `keypoint_pck_accuracy`): a labelled keypoint is correct when its distance to the ground truth,
/// divided by max(width, height) of the person's sanitised box, is below the threshold; accuracy is
/// computed per keypoint slot over all persons, and PCK is the mean of the per-slot accuracies.
///
/// mmpose runs one prediction per ground-truth person (its box); here each ground-truth person is
/// paired with one prediction of its image, greedily by highest OKS, and a person left without a
/// prediction counts all its labelled keypoints as wrong.
public enum PCKEvaluation {
    public struct Result: Sendable, Equatable, Codable {
        /// The normalised-distance threshold (0.2 → PCK@0.2).
        public var threshold: Double
        /// Accuracy per keypoint slot; nil for a slot with no labelled keypoint.
        public var perKeypoint: [Double?]
        /// Mean of the per-slot accuracies that exist (0 when none does).
        public var mean: Double
        /// Labelled keypoints per slot.
        public var counts: [Int]
    }

    /// Persons evaluated and persons that found no prediction.
    public struct Coverage: Sendable, Equatable, Codable {
        public var persons: Int
        public var unmatched: Int
    }

    /// PCK at each of `thresholds` on the labelled images of `gt`.
    public static func evaluate(_ gt: GroundTruth, _ predictions: [Prediction], thresholds: [Double] = [0.2, 0.1],
                                sigmas: [Double] = COCOKeypointEvaluation.cocoSigmas) -> (results: [Result], coverage: Coverage) {
        let k = gt.keypointCount
        let oksSigmas = sigmas.count == k ? sigmas : Array(repeating: 0.5, count: k)
        let images = gt.labeledImages
        var persons: [Int: [(GroundTruth.Person, Double)]] = [:]
        let sizes = Dictionary(images.map { ($0.id, ($0.width, $0.height)) }, uniquingKeysWith: { a, _ in a })
        for p in gt.persons {
            guard let size = sizes[p.imageID], let norm = normaliser(p, width: size.0, height: size.1) else { continue }
            persons[p.imageID, default: []].append((p, norm))
        }
        var preds: [Int: [Prediction]] = [:]
        for p in predictions { preds[p.imageID, default: []].append(p) }

        // distances[slot] for every labelled keypoint: float32 like mmpose; +inf without a prediction.
        var distances = Array(repeating: [Float](), count: k)
        var coverage = Coverage(persons: 0, unmatched: 0)
        for image in images {
            guard let people = persons[image.id] else { continue }
            let candidates = preds[image.id] ?? []
            let pairing = greedyPairs(people.map(\.0), candidates, sigmas: oksSigmas)
            for (i, (person, norm)) in people.enumerated() {
                coverage.persons += 1
                let pred = pairing[i].map { candidates[$0] }
                if pred == nil { coverage.unmatched += 1 }
                for s in 0..<k where person.keypoints[3 * s + 2] > 0 {
                    guard let pred else { distances[s].append(.infinity); continue }
                    // mmpose holds ground-truth joints as float32 and predictions as float64.
                    let dx = (pred.keypoints[3 * s] - Double(Float(person.keypoints[3 * s]))) / norm
                    let dy = (pred.keypoints[3 * s + 1] - Double(Float(person.keypoints[3 * s + 1]))) / norm
                    distances[s].append(Float((dx * dx + dy * dy).squareRoot()))
                }
            }
        }
        let results = thresholds.map { threshold -> Result in
            let t = Float(threshold)
            let acc: [Double?] = distances.map { d in d.isEmpty ? nil : Double(d.filter { $0 < t }.count) / Double(d.count) }
            let valid = acc.compactMap { $0 }
            return Result(threshold: threshold, perKeypoint: acc, mean: valid.isEmpty ? 0 : valid.reduce(0, +) / Double(valid.count),
                          counts: distances.map(\.count))
        }
        return (results, coverage)
    }

    /// max(w, h) of mmpose's sanitised box, or nil for persons mmpose's top-down loader skips
    /// (crowd, no keypoints, zero area, an empty box after clipping to the image).
    static func normaliser(_ p: GroundTruth.Person, width: Double?, height: Double?) -> Double? {
        if p.isCrowd || (p.keypoints.max() ?? 0) == 0 || p.numKeypoints == 0 { return nil }
        if p.hasArea && p.area <= 0 { return nil }
        let (x, y, w, h) = (p.bbox[0], p.bbox[1], p.bbox[2], p.bbox[3])
        let x1 = max(0, x), y1 = max(0, y)
        var x2 = x1 + max(0, w - 1), y2 = y1 + max(0, h - 1)
        if let width { x2 = min(width - 1, x2) }
        if let height { y2 = min(height - 1, y2) }
        guard x2 > x1, y2 > y1 else { return nil }
        return max(x2 - x1, y2 - y1)
    }

    /// For each ground-truth person, the index of its prediction: pairs taken greedily by highest
    /// OKS (ties: first person, then first prediction), each prediction used once.
    static func greedyPairs(_ people: [GroundTruth.Person], _ preds: [Prediction], sigmas: [Double]) -> [Int?] {
        var pairs = [Int?](repeating: nil, count: people.count)
        guard !preds.isEmpty else { return pairs }
        var candidates: [(oks: Double, g: Int, d: Int)] = []
        for (g, person) in people.enumerated() {
            for (d, pred) in preds.enumerated() {
                candidates.append((COCOKeypointEvaluation.oks(pred.keypoints, person, sigmas: sigmas), g, d))
            }
        }
        candidates.sort { $0.oks > $1.oks || ($0.oks == $1.oks && ($0.g, $0.d) < ($1.g, $1.d)) }
        var used = Set<Int>()
        for c in candidates where pairs[c.g] == nil && !used.contains(c.d) {
            pairs[c.g] = c.d
            used.insert(c.d)
        }
        return pairs
    }
}
