import Foundation

/// Multi-person pose tracking metrics as PoseTrack's poseval (`evaluateTracking.py`,
/// `eval_helpers.assignGTmulti`) defines them: per joint, a predicted joint may match a ground-truth
/// joint within half the head size (PCKh 0.5, head size = 0.6 × the head box's diagonal); each frame
/// feeds py-motmetrics' CLEAR-MOT accumulator (carry forward last frame's pairs, then a
/// minimum-distance assignment; a new partner for a tracked person is an identity switch); MOTA,
/// MOTP, precision and recall per joint over all videos, and their plain mean over joints as the total.
///
/// Kept from poseval: only frames with at least one ground-truth person count, and the last such
/// frame of each video is left out; a counted frame without predictions adds one miss and one false
/// positive per joint (not one miss per person); keypoints inside PoseTrack ignore regions are
/// dropped from both sides, and persons left with no keypoint there are dropped.
/// Differences: a person without a head box (COCO ground truth) uses 0.2 × max(box width, height)
/// as its head size, so a match means within 0.1 × the box size (mmpose's PCK@0.1 criterion);
/// predictions are paired with frames by image id, not by position in the file; MOT counts are the
/// classic ones (num_objects = matches + switches + misses, MOTP from matched distances only), as in
/// the py-motmetrics poseval was written for.
public enum TrackingEvaluation {
    /// poseval's 15 joints (its `Joint` order), found in the ground truth's slots by name.
    public static let jointNames = ["right_ankle", "right_knee", "right_hip", "left_hip", "left_knee", "left_ankle",
                                    "right_wrist", "right_elbow", "right_shoulder", "left_shoulder", "left_elbow",
                                    "left_wrist", "head_bottom", "nose", "head_top"]

    /// One joint's (or the total's) metrics in percent; nil where poseval has NaN.
    public struct Row: Sendable, Equatable, Codable {
        public var joint: String
        public var mota: Double?
        public var motp: Double?
        public var precision: Double?
        public var recall: Double?
        public var switches: Int
        public var misses: Int
        public var falsePositives: Int
        public var objects: Int
        public var matches: Int

        enum CodingKeys: String, CodingKey {
            case joint, mota = "MOTA", motp = "MOTP", precision, recall, switches = "id_switches", misses
            case falsePositives = "false_positives", objects = "gt_joints", matches = "matched"
        }

        // Undefined values are written as null (not left out), so every row has every key.
        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(joint, forKey: .joint)
            try c.encode(mota, forKey: .mota)
            try c.encode(motp, forKey: .motp)
            try c.encode(precision, forKey: .precision)
            try c.encode(recall, forKey: .recall)
            try c.encode(switches, forKey: .switches)
            try c.encode(misses, forKey: .misses)
            try c.encode(falsePositives, forKey: .falsePositives)
            try c.encode(objects, forKey: .objects)
            try c.encode(matches, forKey: .matches)
        }
    }

    public struct Result: Sendable, Equatable, Codable {
        /// One row per joint present in the ground truth's schema, in poseval's order.
        public var joints: [Row]
        /// Means over joints (MOTA, MOTP, precision, recall) and sums (counts), as poseval's "total".
        public var total: Row
        public var videos: Int
        /// Frames that entered the MOT accumulators.
        public var frames: Int
        /// Ground-truth persons whose head size came from the person box (no head box).
        public var personsWithoutHeadBox: Int

        enum CodingKeys: String, CodingKey {
            case joints, total, videos, frames, personsWithoutHeadBox = "persons_without_head_box"
        }
    }

    struct Person {
        var trackID: Int
        /// Per evaluated joint: (x, y) or nil when not annotated / predicted.
        var points: [(Double, Double)?]
        var headSize: Double
    }

    /// Evaluates tracked `predictions` against `gt` (which needs `track_id` on every person).
    public static func evaluate(_ gt: GroundTruth, _ predictions: [Prediction], predictionsPath: String) throws -> Result {
        let slots: [(joint: Int, slot: Int)] = jointNames.enumerated().compactMap { j, name in
            gt.keypointNames.firstIndex(of: name).map { (j, $0) }
        }
        guard !slots.isEmpty else {
            throw EvaluationError("\(gt.path): none of poseval's joints (\(jointNames.joined(separator: ", "))) is among the keypoint names")
        }
        var gtByImage: [Int: [GroundTruth.Person]] = [:]
        for p in gt.persons { gtByImage[p.imageID, default: []].append(p) }
        var predByImage: [Int: [Prediction]] = [:]
        for p in predictions { predByImage[p.imageID, default: []].append(p) }

        var withoutHeadBox = 0
        func gtPerson(_ p: GroundTruth.Person) throws -> Person {
            guard let id = p.trackID else { throw EvaluationError("\(gt.path): annotation \(p.id) has no \"track_id\" (tracking needs one on every person)") }
            guard id >= 0, id < 10_000 else { throw EvaluationError("\(gt.path): annotation \(p.id): track_id \(id) is outside 0…9999") }
            let head: Double
            if let b = p.headBox {
                // poseval converts to corners and back: x2 - x1 = (x + w) - x.
                let w = (b[0] + b[2]) - b[0], h = (b[1] + b[3]) - b[1]
                head = 0.6 * (w * w + h * h).squareRoot()
            } else {
                withoutHeadBox += 1
                head = 0.2 * max(p.bbox[2], p.bbox[3])
            }
            // PoseTrack18 writes unannotated joints as (0, 0, 0).
            let points = slots.map { s -> (Double, Double)? in
                let x = p.keypoints[3 * s.slot], y = p.keypoints[3 * s.slot + 1], v = p.keypoints[3 * s.slot + 2]
                return x == 0 && y == 0 && v == 0 ? nil : (x, y)
            }
            return Person(trackID: id, points: points, headSize: head)
        }
        func predPerson(_ p: Prediction, image: Int) throws -> Person {
            guard let id = p.trackID else {
                throw EvaluationError("\(predictionsPath): a prediction on image \(image) has no track id (tracking needs \"track_id\")")
            }
            guard id >= 0, id < 10_000 else { throw EvaluationError("\(predictionsPath): image \(image): track id \(id) is outside 0…9999") }
            let points = slots.map { s -> (Double, Double)? in
                let x = p.keypoints[3 * s.slot], y = p.keypoints[3 * s.slot + 1], score = p.keypoints[3 * s.slot + 2]
                return x == 0 && y == 0 && score == 0 ? nil : (x, y)
            }
            return Person(trackID: id, points: points, headSize: 0)
        }

        // Videos in order of first appearance, frames in file order; frames without GT persons are dropped.
        var videoOrder: [String] = []
        var frames: [String: [GroundTruth.Image]] = [:]
        for image in gt.images where !(gtByImage[image.id] ?? []).isEmpty {
            if frames[image.sequence] == nil { videoOrder.append(image.sequence) }
            frames[image.sequence, default: []].append(image)
        }

        var counts = Array(repeating: Counts(), count: slots.count)
        var frameCount = 0
        for video in videoOrder {
            var accumulators = Array(repeating: MOTAccumulator(), count: slots.count)
            for image in frames[video]!.dropLast() {
                var gts = try (gtByImage[image.id] ?? []).map(gtPerson)
                var prs = try (predByImage[image.id] ?? []).map { try predPerson($0, image: image.id) }
                let ids = prs.map(\.trackID)
                if Set(ids).count != ids.count {
                    throw EvaluationError("\(predictionsPath): image \(image.id): the same track id is given to two persons")
                }
                let regions = image.ignoreRegions.filter { $0.count >= 3 }
                if !image.ignoreRegions.isEmpty {
                    gts = dropIgnored(gts, regions)
                    prs = dropIgnored(prs, regions)
                }
                frameCount += 1
                for (j, _) in slots.enumerated() {
                    if gts.isEmpty || prs.isEmpty {
                        // poseval: one placeholder object and hypothesis that can never match.
                        accumulators[j].update(objects: [0], hypotheses: [0], distances: [[nil]])
                        continue
                    }
                    let g = gts.filter { $0.points[j] != nil }
                    let h = prs.filter { $0.points[j] != nil }
                    let d: [[Double?]] = g.map { gp in
                        h.map { hp in
                            let (gx, gy) = gp.points[j]!, (px, py) = hp.points[j]!
                            let dx = gx - px, dy = gy - py
                            let dist = (dx * dx + dy * dy).squareRoot() / gp.headSize
                            return dist <= 0.5 ? dist : nil
                        }
                    }
                    accumulators[j].update(objects: g.map(\.trackID), hypotheses: h.map(\.trackID), distances: d)
                }
            }
            for j in slots.indices { counts[j].add(accumulators[j].counts) }
        }

        let rows = slots.enumerated().map { j, s in counts[j].row(jointNames[s.joint]) }
        func mean(_ values: [Double?]) -> Double? {
            let v = values.compactMap { $0 }.filter { !$0.isNaN }
            return v.isEmpty ? nil : v.reduce(0, +) / Double(v.count)
        }
        let total = Row(joint: "total", mota: mean(rows.map(\.mota)), motp: mean(rows.map(\.motp)),
                        precision: mean(rows.map(\.precision)), recall: mean(rows.map(\.recall)),
                        switches: rows.reduce(0) { $0 + $1.switches }, misses: rows.reduce(0) { $0 + $1.misses },
                        falsePositives: rows.reduce(0) { $0 + $1.falsePositives }, objects: rows.reduce(0) { $0 + $1.objects },
                        matches: rows.reduce(0) { $0 + $1.matches })
        return Result(joints: rows, total: total, videos: videoOrder.count, frames: frameCount, personsWithoutHeadBox: withoutHeadBox)
    }

    /// poseval `removeIgnoredPointsRects`: points strictly inside a region go; persons left without
    /// points go (also those that had none).
    static func dropIgnored(_ persons: [Person], _ regions: [[(x: Double, y: Double)]]) -> [Person] {
        persons.compactMap { p in
            var q = p
            q.points = p.points.map { pt in
                guard let pt else { return nil }
                return regions.contains { polygonContains($0, pt.0, pt.1) } ? nil : pt
            }
            return q.points.contains { $0 != nil } ? q : nil
        }
    }

    /// Whether (x, y) lies strictly inside the polygon (even-odd rule; points on an edge are outside,
    /// as shapely's `contains`).
    static func polygonContains(_ poly: [(x: Double, y: Double)], _ x: Double, _ y: Double) -> Bool {
        var inside = false
        var j = poly.count - 1
        for i in poly.indices {
            let (xi, yi) = poly[i], (xj, yj) = poly[j]
            // On the edge from j to i?
            let cross = (xj - xi) * (y - yi) - (yj - yi) * (x - xi)
            if cross == 0, min(xi, xj) <= x, x <= max(xi, xj), min(yi, yj) <= y, y <= max(yi, yj) { return false }
            if (yi > y) != (yj > y), x < (xj - xi) * (y - yi) / (yj - yi) + xi { inside.toggle() }
            j = i
        }
        return inside
    }

    /// Event counts of one joint.
    struct Counts {
        var matches = 0, switches = 0, misses = 0, falsePositives = 0
        var distanceSum = 0.0

        mutating func add(_ o: Counts) {
            matches += o.matches; switches += o.switches; misses += o.misses
            falsePositives += o.falsePositives; distanceSum += o.distanceSum
        }

        /// poseval's `computeMetrics` formulas.
        func row(_ name: String) -> Row {
            let objects = matches + switches + misses
            let detections = matches + switches
            let mota: Double? = objects > 0 ? 100 * (1 - Double(misses + switches + falsePositives) / Double(objects)) : nil
            let motp: Double = detections == 0 ? 0 : 100 * (1 - distanceSum / Double(detections))
            let precision: Double? = falsePositives + detections > 0 ? 100 * Double(detections) / Double(falsePositives + detections) : nil
            let recall: Double? = objects > 0 ? 100 * Double(detections) / Double(objects) : nil
            return Row(joint: name, mota: mota, motp: motp, precision: precision, recall: recall, switches: switches,
                       misses: misses, falsePositives: falsePositives, objects: objects, matches: detections)
        }
    }

    /// py-motmetrics' `MOTAccumulator.update` for one joint of one video.
    struct MOTAccumulator {
        /// Last partner hypothesis of each object.
        var partner: [Int: Int] = [:]
        var counts = Counts()

        mutating func update(objects: [Int], hypotheses: [Int], distances: [[Double?]]) {
            var objectDone = Array(repeating: false, count: objects.count)
            var hypothesisDone = Array(repeating: false, count: hypotheses.count)
            if !objects.isEmpty && !hypotheses.isEmpty {
                // 1. Pairs of earlier frames that are still within reach stay paired.
                for i in objects.indices {
                    guard let previous = partner[objects[i]],
                          let j = hypotheses.indices.first(where: { !hypothesisDone[$0] && hypotheses[$0] == previous }),
                          let d = distances[i][j] else { continue }
                    objectDone[i] = true
                    hypothesisDone[j] = true
                    counts.matches += 1
                    counts.distanceSum += d
                }
                // 2. The rest by minimum total distance; a new partner is an identity switch.
                let remaining = objects.indices.map { i in
                    hypotheses.indices.map { j in objectDone[i] || hypothesisDone[j] ? nil : distances[i][j] }
                }
                for (i, j) in minimumCostAssignment(remaining) {
                    let o = objects[i], h = hypotheses[j]
                    if let p = partner[o], p != h { counts.switches += 1 } else { counts.matches += 1 }
                    counts.distanceSum += distances[i][j]!
                    objectDone[i] = true
                    hypothesisDone[j] = true
                    partner[o] = h
                }
            }
            // 3.–4. Objects left are misses, hypotheses left are false positives.
            counts.misses += objectDone.filter { !$0 }.count
            counts.falsePositives += hypothesisDone.filter { !$0 }.count
        }
    }
}
