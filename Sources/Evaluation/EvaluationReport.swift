import Foundation

/// Everything `posewarper evaluate` measured, printable as a table or as one JSON object.
public struct EvaluationReport: Sendable, Codable {
    public struct Source: Sendable, Codable {
        public var path: String
        public var format: String
        public var images: Int
        public var persons: Int
    }

    /// One keypoint slot's PCK row.
    public struct PCKRow: Sendable, Codable {
        public var keypoint: String
        public var pck02: Double?
        public var pck01: Double?
        public var labelled: Int
        enum CodingKeys: String, CodingKey { case keypoint, pck02 = "PCK@0.2", pck01 = "PCK@0.1", labelled }

        // A slot without labelled keypoints is written as null (not left out).
        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(keypoint, forKey: .keypoint)
            try c.encode(pck02, forKey: .pck02)
            try c.encode(pck01, forKey: .pck01)
            try c.encode(labelled, forKey: .labelled)
        }
    }

    public struct PCK: Sendable, Codable {
        public var pck02: Double
        public var pck01: Double
        public var perKeypoint: [PCKRow]
        public var persons: Int
        public var personsWithoutPrediction: Int
        enum CodingKeys: String, CodingKey {
            case pck02 = "PCK@0.2", pck01 = "PCK@0.1", perKeypoint = "per_keypoint", persons
            case personsWithoutPrediction = "persons_without_prediction"
        }
    }

    public var groundTruth: Source
    public var predictions: Source
    public var coco: COCOKeypointEvaluation.Summary?
    public var pck: PCK?
    public var tracking: TrackingEvaluation.Result?

    enum CodingKeys: String, CodingKey { case groundTruth = "ground_truth", predictions, coco, pck, tracking }

    /// Runs the evaluations: tracking, or COCO AP (unless `pckOnly`) and PCK.
    public static func evaluate(groundTruth gt: GroundTruth, predictions: PredictionSet, tracking: Bool, pckOnly: Bool) throws -> EvaluationReport {
        let labelled = Set(gt.labeledImages.map(\.id))
        var report = EvaluationReport(
            groundTruth: Source(path: gt.path, format: gt.persons.contains { $0.headBox != nil } ? "posetrack18" : "coco",
                                images: labelled.count, persons: gt.persons.filter { labelled.contains($0.imageID) }.count),
            predictions: Source(path: predictions.path, format: predictions.format,
                                images: Set(predictions.predictions.map(\.imageID)).count, persons: predictions.predictions.count))
        if tracking {
            report.tracking = try TrackingEvaluation.evaluate(gt, predictions.predictions, predictionsPath: predictions.path)
            return report
        }
        if !pckOnly { report.coco = try COCOKeypointEvaluation.evaluate(gt, predictions.predictions) }
        let (results, coverage) = PCKEvaluation.evaluate(gt, predictions.predictions, thresholds: [0.2, 0.1])
        report.pck = PCK(pck02: results[0].mean, pck01: results[1].mean,
                         perKeypoint: gt.keypointNames.indices.map {
                             PCKRow(keypoint: gt.keypointNames[$0], pck02: results[0].perKeypoint[$0], pck01: results[1].perKeypoint[$0],
                                    labelled: results[0].counts[$0])
                         },
                         persons: coverage.persons, personsWithoutPrediction: coverage.unmatched)
        return report
    }

    /// One JSON object (keys sorted, stable).
    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try! encoder.encode(self), as: UTF8.self)
    }

    /// A human-readable table.
    public var table: String {
        func f(_ x: Double?, _ digits: Int = 4) -> String { x.map { String(format: "%.\(digits)f", $0) } ?? "-" }
        func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
        func lpad(_ s: String, _ n: Int) -> String { s.count >= n ? s : String(repeating: " ", count: n - s.count) + s }
        var lines = [
            "ground truth  \(groundTruth.path) (\(groundTruth.format), \(groundTruth.images) images, \(groundTruth.persons) persons)",
            "predictions   \(predictions.path) (\(predictions.format), \(predictions.persons) persons on \(predictions.images) images)",
        ]
        if let c = coco {
            lines.append("")
            lines.append("COCO keypoint AP / AR (as pycocotools COCOeval: OKS, max 20 detections per image)")
            let names = ["AP", "AP50", "AP75", "APm", "APl", "AR", "AR50", "AR75", "ARm", "ARl"]
            lines.append(names.map { lpad($0, 8) }.joined())
            lines.append(c.stats.map { lpad(f($0), 8) }.joined())
        }
        if let p = pck {
            lines.append("")
            lines.append("PCK (as mmpose: distance / max(w, h) of the ground-truth box; \(p.persons) persons, \(p.personsWithoutPrediction) without a prediction)")
            lines.append(pad("keypoint", 16) + lpad("PCK@0.2", 9) + lpad("PCK@0.1", 9) + lpad("labelled", 10))
            for r in p.perKeypoint { lines.append(pad(r.keypoint, 16) + lpad(f(r.pck02), 9) + lpad(f(r.pck01), 9) + lpad("\(r.labelled)", 10)) }
            lines.append(pad("mean", 16) + lpad(f(p.pck02), 9) + lpad(f(p.pck01), 9))
        }
        if let t = tracking {
            lines.append("")
            lines.append("Tracking (as PoseTrack poseval; percent; videos: \(t.videos), frames counted: \(t.frames)"
                         + (t.personsWithoutHeadBox > 0 ? ", \(t.personsWithoutHeadBox) persons sized by their box (no head box)" : "") + ")")
            lines.append(pad("joint", 16) + ["MOTA", "MOTP", "Prec", "Rec", "IDsw", "Miss", "FP", "GT"].map { lpad($0, 8) }.joined())
            for r in t.joints + [t.total] {
                lines.append(pad(r.joint, 16) + [f(r.mota, 1), f(r.motp, 1), f(r.precision, 1), f(r.recall, 1)].map { lpad($0, 8) }.joined()
                             + [r.switches, r.misses, r.falsePositives, r.objects].map { lpad("\($0)", 8) }.joined())
            }
        }
        return lines.joined(separator: "\n")
    }
}
