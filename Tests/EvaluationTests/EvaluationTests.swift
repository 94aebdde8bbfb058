import Foundation
import Keypoints
import XCTest
@testable import Evaluation

/// Fixtures written by Tools/evaluation/make_fixtures.py, with the numbers pycocotools, mmpose's PCK
/// and poseval compute on them (expected.json).
enum EvalFixtures {
    static let dir: String = {
        if let url = Bundle.module.url(forResource: "Fixtures", withExtension: nil) { return url.path }
        return packageRoot.appendingPathComponent("Tests/EvaluationTests/Fixtures").path
    }()
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static func path(_ name: String) -> String { dir + "/" + name }
    static let expected: [String: Any] = {
        let data = try! Data(contentsOf: URL(fileURLWithPath: path("expected.json")))
        return try! JSONSerialization.jsonObject(with: data) as! [String: Any]
    }()

    static func scratch() -> String {
        let d = NSTemporaryDirectory() + "evaluation-tests-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }

    /// A python that imports `module`, or nil: $POSEWARPER_PYTHON, .venv/bin/python, python3.
    static func python(importing module: String) -> String? {
        var candidates = [packageRoot.appendingPathComponent(".venv/bin/python").path, "/usr/bin/env"]
        if let p = ProcessInfo.processInfo.environment["POSEWARPER_PYTHON"] { candidates.insert(p, at: 0) }
        for c in candidates where FileManager.default.isExecutableFile(atPath: c) {
            let args = c == "/usr/bin/env" ? ["python3", "-c", "import \(module)"] : ["-c", "import \(module)"]
            if let r = try? run(c, args), r.code == 0 { return c }
        }
        return nil
    }

    static func run(_ exe: String, _ args: [String]) throws -> (code: Int32, stdout: String, stderr: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    /// Runs Tools/evaluation/reference.py with `python` and decodes its JSON.
    static func reference(_ python: String, _ args: [String]) throws -> [String: Any] {
        let script = packageRoot.appendingPathComponent("Tools/evaluation/reference.py").path
        let full = python == "/usr/bin/env" ? ["python3", script] + args : [script] + args
        let r = try run(python, full)
        guard r.code == 0 else { throw XCTSkip("reference.py failed: \(r.stderr.suffix(400))") }
        return try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
    }
}

final class COCOKeypointEvaluationTests: XCTestCase {
    func summary(_ pred: String) throws -> COCOKeypointEvaluation.Summary {
        let gt = try GroundTruth(path: EvalFixtures.path("coco_gt.json"))
        let preds = try PredictionSet(path: EvalFixtures.path(pred), groundTruth: gt)
        return try COCOKeypointEvaluation.evaluate(gt, preds.predictions)
    }

    func assertEqual(_ s: COCOKeypointEvaluation.Summary, _ reference: [String: Any], file: StaticString = #filePath, line: UInt = #line) {
        let names = ["AP", "AP50", "AP75", "APm", "APl", "AR", "AR50", "AR75", "ARm", "ARl"]
        for (name, value) in zip(names, s.stats) {
            let want = (reference[name] as! NSNumber).doubleValue
            XCTAssertFalse(value.isNaN, name, file: file, line: line)
            XCTAssertEqual(value, want, accuracy: 1e-4, "\(name)", file: file, line: line)
        }
    }

    /// The committed pycocotools numbers: COCO results without boxes, with boxes (areas from the
    /// boxes), and the same predictions as a keypoint stream.
    func testMatchesPycocotoolsOnTheCommittedFixtures() throws {
        let expected = EvalFixtures.expected
        assertEqual(try summary("coco_results.json"), expected["coco_results"] as! [String: Any])
        assertEqual(try summary("coco_results_bbox.json"), expected["coco_results_bbox"] as! [String: Any])
        assertEqual(try summary("coco_stream.jsonl"), expected["coco_results"] as! [String: Any])
        // The fixture is not trivial: the numbers differ from one another and from 1.
        let s = try summary("coco_results.json")
        XCTAssertLessThan(s.ap, 0.95)
        XCTAssertGreaterThan(s.ap, 0.05)
        XCTAssertNotEqual(s.apMedium, s.apLarge)
    }

    /// Re-runs pycocotools itself when it is installed (skips otherwise).
    func testMatchesPycocotoolsLive() throws {
        guard let python = EvalFixtures.python(importing: "pycocotools") else { throw XCTSkip("pycocotools is not installed") }
        for pred in ["coco_results.json", "coco_results_bbox.json"] {
            let ref = try EvalFixtures.reference(python, ["coco", EvalFixtures.path("coco_gt.json"), EvalFixtures.path(pred)])
            assertEqual(try summary(pred), ref)
        }
    }

    /// Ground truth as predictions: AP 1, PCK 1, except for pycocotools' annotation-id-0 quirk (its
    /// match is recorded as id 0, which means "unmatched"): 25 of 26 persons found, AP 0.92346 as
    /// pycocotools computes it on this fixture.
    func testPerfectPredictions() throws {
        let dir = EvalFixtures.scratch()
        let gtData = try Data(contentsOf: URL(fileURLWithPath: EvalFixtures.path("coco_gt.json")))
        var gt = try JSONSerialization.jsonObject(with: gtData) as! [String: Any]
        let annotations = gt["annotations"] as! [[String: Any]]
        let results: [[String: Any]] = annotations.compactMap { a in
            guard (a["num_keypoints"] as! Int) > 0, (a["iscrowd"] as! Int) == 0 else { return nil }
            let k = (a["keypoints"] as! [NSNumber]).map(\.doubleValue)
            return ["image_id": a["image_id"]!, "category_id": 1, "keypoints": k, "score": 0.9]
        }
        try JSONSerialization.data(withJSONObject: results).write(to: URL(fileURLWithPath: dir + "/perfect.json"))
        gt["annotations"] = annotations.map { a in var b = a; b["id"] = (a["id"] as! Int) + 1; return b }
        try JSONSerialization.data(withJSONObject: gt).write(to: URL(fileURLWithPath: dir + "/gt_ids_from_1.json"))

        let g = try GroundTruth(path: EvalFixtures.path("coco_gt.json"))
        let p = try PredictionSet(path: dir + "/perfect.json", groundTruth: g)
        let s = try COCOKeypointEvaluation.evaluate(g, p.predictions)
        XCTAssertEqual(s.ap50, 0.9234577303884235, accuracy: 1e-12)
        XCTAssertEqual(s.ar, 25.0 / 26.0, accuracy: 1e-12)
        let pck = PCKEvaluation.evaluate(g, p.predictions)
        XCTAssertEqual(pck.results[0].mean, 1)
        XCTAssertEqual(pck.results[1].mean, 1)
        XCTAssertEqual(pck.coverage.unmatched, 0)

        let g1 = try GroundTruth(path: dir + "/gt_ids_from_1.json")
        let s1 = try COCOKeypointEvaluation.evaluate(g1, try PredictionSet(path: dir + "/perfect.json", groundTruth: g1).predictions)
        XCTAssertEqual(s1.stats, Array(repeating: 1.0, count: 10))
    }
}

final class PCKEvaluationTests: XCTestCase {
    func testMatchesTheMMPoseReferenceOnTheCommittedFixtures() throws {
        let ref = EvalFixtures.expected["pck"] as! [String: Any]
        let gt = try GroundTruth(path: EvalFixtures.path("coco_gt.json"))
        for file in ["coco_results.json", "coco_stream.jsonl"] {
            let preds = try PredictionSet(path: EvalFixtures.path(file), groundTruth: gt)
            let (results, coverage) = PCKEvaluation.evaluate(gt, preds.predictions)
            XCTAssertEqual(coverage.persons, (ref["persons"] as! NSNumber).intValue)
            XCTAssertEqual(coverage.unmatched, (ref["unmatched"] as! NSNumber).intValue)
            XCTAssertGreaterThan(coverage.unmatched, 0, "the fixture has persons without predictions")
            for (r, key) in zip(results, ["0.2", "0.1"]) {
                XCTAssertEqual(r.mean, (ref["PCK@\(key)"] as! NSNumber).doubleValue, accuracy: 1e-9)
                let per = ref["per_keypoint@\(key)"] as! [Any]
                for (mine, theirs) in zip(r.perKeypoint, per) {
                    if let t = theirs as? NSNumber { XCTAssertEqual(mine ?? -1, t.doubleValue, accuracy: 1e-9) } else { XCTAssertNil(mine) }
                }
            }
            XCTAssertGreaterThan(results[0].mean, results[1].mean)
        }
    }

    /// mmpose's normaliser: the box clipped to the image and shrunk by one pixel, max(w, h).
    func testNormaliserIsTheSanitisedBoxSide() {
        var p = GroundTruth.Person(id: 1, imageID: 0, keypoints: [10, 10, 2], bbox: [-5, 20, 50, 100], headBox: nil, area: 10,
                                   hasArea: true, isCrowd: false, numKeypoints: 1, trackID: nil)
        XCTAssertEqual(PCKEvaluation.normaliser(p, width: 320, height: 240), 99)
        XCTAssertEqual(PCKEvaluation.normaliser(p, width: 320, height: 80), 59)   // y2 clipped to 79: 79 - 20
        p.isCrowd = true
        XCTAssertNil(PCKEvaluation.normaliser(p, width: 320, height: 240))
    }
}

final class TrackingEvaluationTests: XCTestCase {
    func assertRows(_ result: TrackingEvaluation.Result, _ reference: [String: Any], file: StaticString = #filePath, line: UInt = #line) {
        let joints = reference["joints"] as! [[String: Any]]
        XCTAssertEqual(result.joints.count, joints.count, file: file, line: line)
        XCTAssertEqual(result.frames, (reference["frames"] as! NSNumber).intValue, file: file, line: line)
        for (mine, theirs) in zip(result.joints + [result.total], joints + [reference["total"] as! [String: Any]]) {
            for (key, value) in [("id_switches", mine.switches), ("misses", mine.misses), ("false_positives", mine.falsePositives),
                                 ("gt_joints", mine.objects), ("matched", mine.matches)] {
                XCTAssertEqual(value, (theirs[key] as! NSNumber).intValue, "\(mine.joint) \(key)", file: file, line: line)
            }
            for (key, value) in [("MOTA", mine.mota), ("MOTP", mine.motp), ("precision", mine.precision), ("recall", mine.recall)] {
                guard let t = theirs[key] as? NSNumber else { XCTAssertNil(value, "\(mine.joint) \(key)", file: file, line: line); continue }
                XCTAssertEqual(value ?? .nan, t.doubleValue, accuracy: 1e-9, "\(mine.joint) \(key)", file: file, line: line)
            }
        }
    }

    /// The committed numbers from poseval's own matching and py-motmetrics' accumulators.
    func testMatchesPosevalOnTheCommittedFixtures() throws {
        let gt = try GroundTruth(path: EvalFixtures.path("posetrack_gt.json"))
        let preds = try PredictionSet(path: EvalFixtures.path("posetrack_pred.json"), groundTruth: gt)
        let result = try TrackingEvaluation.evaluate(gt, preds.predictions, predictionsPath: preds.path)
        assertRows(result, EvalFixtures.expected["tracking"] as! [String: Any])
        XCTAssertEqual(result.videos, 2)
        XCTAssertEqual(result.joints.map(\.joint), TrackingEvaluation.jointNames)
        XCTAssertGreaterThan(result.total.switches, 0, "the fixture has identity switches")
        // poseval's own computeMetrics agrees on MOTA, precision and recall (its MOTP also sums
        // py-motmetrics' RAW candidate distances, so it is not compared).
        let official = (EvalFixtures.expected["tracking"] as! [String: Any])["poseval_computeMetrics"] as! [String: [NSNumber]]
        for (i, row) in (result.joints + [result.total]).enumerated() {
            XCTAssertEqual(row.mota!, official["mota"]![i].doubleValue, accuracy: 1e-9)
            XCTAssertEqual(row.precision!, official["pre"]![i].doubleValue, accuracy: 1e-9)
            XCTAssertEqual(row.recall!, official["rec"]![i].doubleValue, accuracy: 1e-9)
        }
    }

    /// One video of the ground truth against the same predictions as a keypoint stream.
    func testAStreamAgainstOneVideo() throws {
        let gt = try GroundTruth(path: EvalFixtures.path("posetrack_gt.json")).restricted(toVideo: "000001")
        let preds = try PredictionSet(path: EvalFixtures.path("posetrack_stream_000001.jsonl"), groundTruth: gt)
        XCTAssertEqual(preds.format, "keypoint-stream")
        let result = try TrackingEvaluation.evaluate(gt, preds.predictions, predictionsPath: preds.path)
        assertRows(result, EvalFixtures.expected["tracking_000001"] as! [String: Any])
    }

    /// Re-runs poseval when POSEVAL_DIR names a checkout and motmetrics/shapely import (skips otherwise).
    func testMatchesPosevalLive() throws {
        guard let dir = ProcessInfo.processInfo.environment["POSEVAL_DIR"] else { throw XCTSkip("POSEVAL_DIR is not set") }
        guard let python = EvalFixtures.python(importing: "motmetrics, shapely") else { throw XCTSkip("motmetrics / shapely not installed") }
        let ref = try EvalFixtures.reference(python, ["tracking", EvalFixtures.path("posetrack_gt.json"), EvalFixtures.path("posetrack_pred.json"), dir])
        let gt = try GroundTruth(path: EvalFixtures.path("posetrack_gt.json"))
        let preds = try PredictionSet(path: EvalFixtures.path("posetrack_pred.json"), groundTruth: gt)
        assertRows(try TrackingEvaluation.evaluate(gt, preds.predictions, predictionsPath: preds.path), ref)
    }

    /// COCO ground truth with track ids and no head boxes: the head size is 0.2 × max(w, h) (40 px
    /// for a 100 × 200 box, so a joint matches within 20 px); the 13 joints COCO-17 shares with
    /// poseval are scored. By hand: frame 0 within 19 px (match), frame 1 at 21 px (miss + false
    /// positive), frame 2 is the video's last and not counted.
    func testBoxSizedHeadWithoutHeadBoxes() throws {
        let dir = EvalFixtures.scratch()
        func keypoints(_ dx: Double) -> [Double] {
            var k: [Double] = []
            for i in 0..<17 { k += [100 + Double(i) * 3 + dx, 100 + Double(i) * 10, 2] }
            return k
        }
        let gt: [String: Any] = [
            "images": (0..<3).map { ["id": $0, "file_name": "clip/\(String(format: "%06d", $0)).jpg"] },
            "annotations": (0..<3).map { (i: Int) -> [String: Any] in
                ["id": i + 1, "image_id": i, "track_id": 5, "bbox": [90, 90, 100, 200], "area": 20000,
                 "num_keypoints": 17, "iscrowd": 0, "keypoints": keypoints(0)]
            },
            "categories": [["id": 1, "name": "person", "keypoints": KeypointSchema.coco17.keypoints]],
        ]
        let offsets: [(Int, Double)] = [(0, 19), (1, 21), (2, 0)]
        let preds: [[String: Any]] = offsets.map { (frame: Int, dx: Double) -> [String: Any] in
            ["image_id": frame, "category_id": 1, "track_id": 3, "keypoints": keypoints(dx), "score": 1]
        }
        try JSONSerialization.data(withJSONObject: gt).write(to: URL(fileURLWithPath: dir + "/gt.json"))
        try JSONSerialization.data(withJSONObject: preds).write(to: URL(fileURLWithPath: dir + "/pred.json"))
        let g = try GroundTruth(path: dir + "/gt.json")
        let result = try TrackingEvaluation.evaluate(g, try PredictionSet(path: dir + "/pred.json", groundTruth: g).predictions,
                                                     predictionsPath: dir + "/pred.json")
        XCTAssertEqual(result.joints.count, 13)
        XCTAssertEqual(result.personsWithoutHeadBox, 2)
        XCTAssertEqual(result.frames, 2)
        for row in result.joints + [result.total] {
            XCTAssertEqual(row.mota!, 0, accuracy: 1e-9, row.joint)
            XCTAssertEqual(row.motp!, 100 * (1 - 19.0 / 40.0), accuracy: 1e-9, row.joint)
            XCTAssertEqual(row.precision!, 50, accuracy: 1e-9)
            XCTAssertEqual(row.recall!, 50, accuracy: 1e-9)
        }
        XCTAssertEqual(result.total.misses, 13)
        XCTAssertEqual(result.total.falsePositives, 13)
    }

    /// CLEAR MOT by hand: a kept pair, a switch to a new hypothesis, a miss and a false positive.
    func testAccumulatorCountsByHand() {
        var acc = TrackingEvaluation.MOTAccumulator()
        acc.update(objects: [1, 2], hypotheses: [10, 20], distances: [[0.1, nil], [nil, 0.2]])
        acc.update(objects: [1, 2], hypotheses: [10, 30], distances: [[0.3, 0.05], [nil, 0.4]])   // 1 keeps 10; 2 → 30 switch
        acc.update(objects: [1], hypotheses: [40], distances: [[nil]])                           // miss + FP
        XCTAssertEqual(acc.counts.matches, 3)
        XCTAssertEqual(acc.counts.switches, 1)
        XCTAssertEqual(acc.counts.misses, 1)
        XCTAssertEqual(acc.counts.falsePositives, 1)
        XCTAssertEqual(acc.counts.distanceSum, 0.1 + 0.2 + 0.3 + 0.4, accuracy: 1e-12)
        let row = acc.counts.row("j")
        XCTAssertEqual(row.mota!, 100 * (1 - 3.0 / 5.0), accuracy: 1e-12)
        XCTAssertEqual(row.motp!, 100 * (1 - 1.0 / 4.0), accuracy: 1e-12)
    }

    /// As many pairs as possible first, then the least total distance (not greedy).
    func testAssignmentPrefersMorePairs() {
        let pairs = minimumCostAssignment([[0.1, 0.2], [0.3, nil]])
        XCTAssertEqual(pairs.map(\.row), [0, 1])
        XCTAssertEqual(pairs.map(\.column), [1, 0])
        XCTAssertEqual(minimumCostAssignment([[0.4, 0.1, 0.3], [0.1, 0.5, nil]]).map(\.column), [1, 0])
        XCTAssertTrue(minimumCostAssignment([[nil, nil]]).isEmpty)
    }

    func testPolygonInsideIsStrict() {
        let square = [(x: 0.0, y: 0.0), (x: 10.0, y: 0.0), (x: 10.0, y: 10.0), (x: 0.0, y: 10.0)]
        XCTAssertTrue(TrackingEvaluation.polygonContains(square, 5, 5))
        XCTAssertFalse(TrackingEvaluation.polygonContains(square, 10, 5))
        XCTAssertFalse(TrackingEvaluation.polygonContains(square, 0, 0))
        XCTAssertFalse(TrackingEvaluation.polygonContains(square, 11, 5))
    }

    func testPredictionsWithoutTrackIDsAreRefused() throws {
        let gt = try GroundTruth(path: EvalFixtures.path("posetrack_gt.json"))
        let preds = try PredictionSet(path: EvalFixtures.path("coco_results.json").replacingOccurrences(of: "coco_results", with: "posetrack_pred"), groundTruth: gt)
        var stripped = preds.predictions
        stripped[0].trackID = nil
        XCTAssertThrowsError(try TrackingEvaluation.evaluate(gt, stripped, predictionsPath: "p.json")) {
            XCTAssertTrue("\($0)".contains("p.json") && "\($0)".contains("track id"), "\($0)")
        }
    }
}

final class EvaluationInputTests: XCTestCase {
    func write(_ text: String, _ name: String) -> String {
        let path = EvalFixtures.scratch() + "/" + name
        try! text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func assertError(_ body: @autoclosure () throws -> Any, mentions: [String], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            for m in mentions { XCTAssertTrue("\(error)".contains(m), "'\(error)' lacks '\(m)'", file: file, line: line) }
        }
    }

    func testBadFilesAreNamed() throws {
        assertError(try GroundTruth(path: "/nonexistent/gt.json"), mentions: ["/nonexistent/gt.json", "cannot read"])
        let notJSON = write("{", "gt.json")
        assertError(try GroundTruth(path: notJSON), mentions: [notJSON, "not valid JSON"])
        let noImages = write("{\"annotations\": []}", "gt.json")
        assertError(try GroundTruth(path: noImages), mentions: [noImages, "images"])
        let badKeypoints = write("{\"images\":[{\"id\":1}],\"annotations\":[{\"id\":1,\"image_id\":1,\"bbox\":[0,0,1,1],\"keypoints\":[1,2]}]}", "gt.json")
        assertError(try GroundTruth(path: badKeypoints), mentions: [badKeypoints, "annotations[0]", "keypoints"])

        let gt = try GroundTruth(path: EvalFixtures.path("coco_gt.json"))
        assertError(try PredictionSet(path: "/nonexistent/p.json", groundTruth: gt), mentions: ["/nonexistent/p.json"])
        let unknownImage = write("[{\"image_id\": 999, \"category_id\": 1, \"keypoints\": \(Array(repeating: 1, count: 51)), \"score\": 1}]", "p.json")
        assertError(try PredictionSet(path: unknownImage, groundTruth: gt), mentions: [unknownImage, "999"])
        let noScore = write("[{\"image_id\": 1, \"keypoints\": \(Array(repeating: 1, count: 51))}]", "p.json")
        assertError(try PredictionSet(path: noScore, groundTruth: gt), mentions: [noScore, "score"])
        let badStream = write("{\"frame\": 0, \"time\": 0, \"persons\": [{\"bbox\": [1]}]}\n", "p.jsonl")
        assertError(try PredictionSet(path: badStream, groundTruth: gt), mentions: [badStream])
        let garbage = write("hello", "p.txt")
        assertError(try PredictionSet(path: garbage, groundTruth: gt), mentions: [garbage])
    }

    /// Image ids that are not frame indices (here frame + 100): the file names' numbers find the
    /// frames by default; `--frames id` would look for ids 0…11 and find none.
    func testStreamFramesFollowFileNames() throws {
        let dir = EvalFixtures.scratch()
        let data = try Data(contentsOf: URL(fileURLWithPath: EvalFixtures.path("coco_gt.json")))
        var gt = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        gt["images"] = (gt["images"] as! [[String: Any]]).map { i in var j = i; j["id"] = (i["id"] as! Int) + 100; return j }
        gt["annotations"] = (gt["annotations"] as! [[String: Any]]).map { a in var b = a; b["image_id"] = (a["image_id"] as! Int) + 100; return b }
        try JSONSerialization.data(withJSONObject: gt).write(to: URL(fileURLWithPath: dir + "/gt.json"))
        let g = try GroundTruth(path: dir + "/gt.json")
        let preds = try PredictionSet(path: EvalFixtures.path("coco_stream.jsonl"), groundTruth: g)
        let ap = try COCOKeypointEvaluation.evaluate(g, preds.predictions).ap
        XCTAssertEqual(ap, ((EvalFixtures.expected["coco_results"] as! [String: Any])["AP"] as! NSNumber).doubleValue, accuracy: 1e-9)
        let byID = try PredictionSet(path: EvalFixtures.path("coco_stream.jsonl"), groundTruth: g, numbering: .id)
        XCTAssertTrue(byID.predictions.isEmpty)
        XCTAssertGreaterThan(byID.framesWithoutGroundTruth, 0)
    }

    func testStreamFramesNeedOneVideo() throws {
        let gt = try GroundTruth(path: EvalFixtures.path("posetrack_gt.json"))
        assertError(try PredictionSet(path: EvalFixtures.path("posetrack_stream_000001.jsonl"), groundTruth: gt), mentions: ["2 videos", "--video"])
        assertError(try gt.restricted(toVideo: "000009"), mentions: ["000009", "000001"])
    }

    func testPoseTrackGroundTruthDefaults() throws {
        let gt = try GroundTruth(path: EvalFixtures.path("posetrack_gt.json"))
        XCTAssertEqual(gt.keypointNames, KeypointSchema.posetrack18.keypoints)
        XCTAssertEqual(Set(gt.images.map(\.sequence)), ["000001", "000002"])
        XCTAssertLessThan(gt.labeledImages.count, gt.images.count)
        let p = gt.persons[0]
        XCTAssertFalse(p.hasArea)
        XCTAssertEqual(p.area, p.bbox[2] * p.bbox[3])
        XCTAssertNotNil(p.headBox)
        // COCO AP and PCK also run on PoseTrack ground truth (areas from boxes, unlabelled frames out).
        let preds = try PredictionSet(path: EvalFixtures.path("posetrack_pred.json"), groundTruth: gt)
        let s = try COCOKeypointEvaluation.evaluate(gt, preds.predictions)
        XCTAssertGreaterThan(s.ap, 0)
        XCTAssertLessThan(s.ap, 1)
    }
}

/// `posewarper evaluate` as users run it.
final class EvaluateCLITests: XCTestCase {
    static let binary: String? = {
        let here = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for dir in [here, here.deletingLastPathComponent(), EvalFixtures.packageRoot.appendingPathComponent(".build/release")] {
            let path = dir.appendingPathComponent("posewarper").path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }()

    func run(_ args: [String]) throws -> (code: Int32, stdout: String, stderr: String) {
        guard let binary = Self.binary else { throw XCTSkip("the posewarper executable is not built (make test builds it)") }
        return try EvalFixtures.run(binary, ["evaluate"] + args)
    }

    func testJSONReport() throws {
        let r = try run(["--gt", EvalFixtures.path("coco_gt.json"), "--pred", EvalFixtures.path("coco_stream.jsonl"), "--json"])
        XCTAssertEqual(r.code, 0, r.stderr)
        let o = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        let coco = o["coco"] as! [String: NSNumber]
        let want = EvalFixtures.expected["coco_results"] as! [String: NSNumber]
        XCTAssertEqual(coco["AP"]!.doubleValue, want["AP"]!.doubleValue, accuracy: 1e-4)
        let pck = o["pck"] as! [String: Any]
        XCTAssertEqual((pck["per_keypoint"] as! [Any]).count, 17)
        XCTAssertNotNil(pck["PCK@0.1"])
    }

    func testTables() throws {
        let r = try run(["--gt", EvalFixtures.path("coco_gt.json"), "--pred", EvalFixtures.path("coco_results.json")])
        XCTAssertEqual(r.code, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("AP50") && r.stdout.contains("left_ankle") && r.stdout.contains("PCK@0.2"), r.stdout)
        let t = try run(["--tracking", "--gt", EvalFixtures.path("posetrack_gt.json"), "--pred", EvalFixtures.path("posetrack_pred.json")])
        XCTAssertEqual(t.code, 0, t.stderr)
        XCTAssertTrue(t.stdout.contains("MOTA") && t.stdout.contains("head_top") && t.stdout.contains("total"), t.stdout)
        let p = try run(["--pck-only", "--gt", EvalFixtures.path("coco_gt.json"), "--pred", EvalFixtures.path("coco_results.json")])
        XCTAssertFalse(p.stdout.contains("AP50"))
    }

    func testBadInputExitsOneNamingTheFile() throws {
        let r = try run(["--gt", "/nonexistent/gt.json", "--pred", EvalFixtures.path("coco_results.json")])
        XCTAssertEqual(r.code, 1)
        XCTAssertTrue(r.stderr.contains("/nonexistent/gt.json"), r.stderr)
        let t = try run(["--tracking", "--gt", EvalFixtures.path("coco_gt.json"), "--pred", EvalFixtures.path("coco_results.json")])
        XCTAssertEqual(t.code, 1)
        XCTAssertTrue(t.stderr.contains("track_id"), t.stderr)
    }
}
