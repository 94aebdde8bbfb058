import Foundation
import Keypoints
import XCTest
@testable import Pipeline

/// `posewarper propagate`: reading sparse labels, planning, the label-only methods and the dense output.
final class PropagationTests: XCTestCase {
    // MARK: fixtures

    /// A pose of 17 slots around (cx, cy); slot 3 (an ear) unlabelled as in PoseTrack18.
    static func pose(_ cx: Double, _ cy: Double, flag: Double = 1, unlabelled: Set<Int> = [3, 4]) -> [Double] {
        (0..<17).flatMap { k -> [Double] in
            unlabelled.contains(k) ? [0, 0, 0] : [cx + Double(k % 4) * 3, cy + Double(k) * 4, flag]
        }
    }

    /// A PoseTrack18 video JSON of `frames` frames labelled every `step` frames: track 7 walking
    /// right, track 2 standing (absent from the last labelled frame).
    static func poseTrackLabels(frames: Int = 11, step: Int = 5, video: Int = 1) -> [String: Any] {
        var images: [[String: Any]] = []
        var annotations: [[String: Any]] = []
        var id = 500
        for f in 0..<frames {
            let imageID = BoxesFile.poseTrackFrameID(video: video, frame: f)
            let labelled = f % step == 0
            images.append(["file_name": String(format: "images/val/%06d_mpii_test/%06d.jpg", video, f), "id": imageID,
                           "frame_id": imageID, "vid_id": String(format: "%06d", video), "nframes": frames,
                           "is_labeled": labelled, "ignore_regions_x": [[Int]](), "ignore_regions_y": [[Int]]()])
            guard labelled else { continue }
            annotations.append(["id": id, "image_id": imageID, "track_id": 7, "category_id": 1,
                                "keypoints": pose(100 + 10 * Double(f), 50), "bbox": [90 + 10 * Double(f), 40, 40, 90],
                                "bbox_head": [100, 40, 10, 10]])
            id += 1
            if f < (frames - 1) / step * step {
                annotations.append(["id": id, "image_id": imageID, "track_id": 2, "category_id": 1,
                                    "keypoints": pose(300.25, 80.5), "bbox": [290, 70, 30, 80]])
                id += 1
            }
        }
        let names = KeypointSchema.posetrack18.keypoints
        return ["images": images, "annotations": annotations,
                "categories": [["id": 1, "name": "person", "supercategory": "person", "keypoints": names,
                                "skeleton": [[16, 14]]]]]
    }

    static func write(_ object: Any, _ name: String, in dir: String) throws -> String {
        let path = dir + "/" + name
        try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]).write(to: URL(fileURLWithPath: path))
        return path
    }

    static func readJSON(_ path: String) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path)))
    }

    func expectError(_ body: () throws -> Void, contains parts: [String], file: StaticString = #filePath, line: UInt = #line) {
        do {
            try body()
            XCTFail("no error", file: file, line: line)
        } catch {
            let text = "\(error)"
            for p in parts { XCTAssertTrue(text.contains(p), "'\(text)' lacks '\(p)'", file: file, line: line) }
            if let e = error as? PipelineError { XCTAssertEqual(e.kind, .badInput, file: file, line: line) }
        }
    }

    // MARK: reading

    func testPoseTrackLabelsMapToFramesWithTheirTracks() throws {
        let dir = Fixtures.scratch()
        let path = try Self.write(Self.poseTrackLabels(), "sparse.json", in: dir)
        let labels = try LabelsFile(path: path, frameCount: 11)
        XCTAssertEqual(labels.format, .posetrack)
        XCTAssertEqual(labels.schema, .posetrack18)
        XCTAssertEqual(labels.labelledFrames, [0, 5, 10])
        XCTAssertTrue(labels.hasTrackIDs)
        XCTAssertEqual(labels.instances[5]?.map(\.trackID), [7, 2])
        XCTAssertEqual(labels.instances[10]?.map(\.trackID), [7])
        XCTAssertEqual(labels.instances[5]?[0].box, PersonBox(x: 140, y: 40, width: 40, height: 90))
        XCTAssertFalse(labels.instances[5]![0].isLabelled(3))
        XCTAssertTrue(labels.instances[5]![0].isLabelled(5))
    }

    func testLabelErrorsNameTheFileAndTheProblem() throws {
        let dir = Fixtures.scratch()
        // A label on frame 10 of a 9-frame video.
        let path = try Self.write(Self.poseTrackLabels(), "sparse.json", in: dir)
        expectError({ _ = try LabelsFile(path: path, frameCount: 9) }, contains: [path, "frame 9", "outside the video"])

        // An annotation whose image id is not among the images.
        var doc = Self.poseTrackLabels()
        var annotations = doc["annotations"] as! [[String: Any]]
        annotations[1]["image_id"] = 10_000_019_999
        doc["annotations"] = annotations
        let unknown = try Self.write(doc, "unknown.json", in: dir)
        expectError({ _ = try LabelsFile(path: unknown, frameCount: 11) }, contains: [unknown, "annotations[1]", "10000019999", "not among"])

        // 15 keypoints for a 17-slot schema.
        doc = Self.poseTrackLabels()
        annotations = doc["annotations"] as! [[String: Any]]
        annotations[2]["keypoints"] = Array((annotations[2]["keypoints"] as! [Double]).prefix(45))
        doc["annotations"] = annotations
        let short = try Self.write(doc, "short.json", in: dir)
        expectError({ _ = try LabelsFile(path: short, frameCount: 11) }, contains: [short, "annotations[2]", "15 keypoints", "posetrack18 has 17"])

        // Categories naming 15 keypoints.
        doc = Self.poseTrackLabels()
        doc["categories"] = [["id": 1, "name": "person", "keypoints": Array(KeypointSchema.posetrack18.keypoints.prefix(15))]]
        let categories = try Self.write(doc, "categories.json", in: dir)
        expectError({ _ = try LabelsFile(path: categories, frameCount: 11) }, contains: [categories, "15 keypoints", "has 17"])

        // Track ids on some annotations only, and a track id PoseTrack rejects.
        doc = Self.poseTrackLabels()
        annotations = doc["annotations"] as! [[String: Any]]
        annotations[0]["track_id"] = nil
        doc["annotations"] = annotations
        let mixed = try Self.write(doc, "mixed.json", in: dir)
        expectError({ _ = try LabelsFile(path: mixed, frameCount: 11) }, contains: [mixed, "track_id"])
        annotations[0]["track_id"] = 10_000
        doc["annotations"] = annotations
        let big = try Self.write(doc, "big.json", in: dir)
        expectError({ _ = try LabelsFile(path: big, frameCount: 11) }, contains: [big, "10000"])

        // Not labels at all.
        let text = dir + "/text.json"
        try "{\"images\": []}".write(toFile: text, atomically: true, encoding: .utf8)
        expectError({ _ = try LabelsFile(path: text, frameCount: 11) }, contains: [text, "annotations"])
        expectError({ _ = try LabelsFile(path: dir + "/missing.json", frameCount: 11) }, contains: [dir + "/missing.json", "cannot read labels file: No such file or directory"])
        let empty = dir + "/empty.json"
        FileManager.default.createFile(atPath: empty, contents: Data())
        expectError({ _ = try LabelsFile(path: empty, frameCount: 11) }, contains: [empty, "not valid JSON"])
    }

    /// A finding of Tools/fuzz's LabelsFileFuzz: an annotation id given as a string of Int.max made
    /// the dense labels' next id overflow (a trap, or wrapped ids with -Ounchecked). Integers in
    /// strings now have the range of numbers; that id is kept as read and new ids follow the others.
    func testHugeStringIDsDoNotOverflowTheNewIDs() throws {
        let dir = Fixtures.scratch()
        var keypoints: [Double] = []
        for j in 0..<17 { keypoints += [10 + Double(j), 20 + 2 * Double(j), 2] }
        let doc: [String: Any] = [
            "images": [["id": 0], ["id": 4]],
            "annotations": [["id": "9223372036854775807", "image_id": 0, "category_id": 1, "keypoints": keypoints, "bbox": [5, 5, 40, 80]],
                            ["id": 7, "image_id": 4, "category_id": 1, "keypoints": keypoints, "bbox": [5, 5, 40, 80]]],
            "categories": [["id": 1]],
        ]
        let path = dir + "/ids.json"
        try JSONSerialization.data(withJSONObject: doc).write(to: URL(fileURLWithPath: path))
        let labels = try LabelsFile(path: path, frameCount: 5)
        let plan = PropagationPlan(labels, maxGap: 4)
        let dense = DenseLabels(labels: labels, propagated: LabelPropagation.run(plan, method: .interpolate, joints: 17))
        let annotations = try XCTUnwrap((dense.document() as? [String: Any])?["annotations"] as? [[String: Any]])
        XCTAssertEqual(annotations.count, 5)
        XCTAssertEqual(annotations[0]["id"] as? String, "9223372036854775807")
        XCTAssertEqual(annotations.dropFirst().compactMap { $0["id"] as? Int }.sorted(), [7, 8, 9, 10])
        XCTAssertNil(LabelsFile.integer("-9223372036854775808"))
        XCTAssertEqual(LabelsFile.integer("10000010004"), 10000010004)
    }

    /// A bare COCO list with frame-index ids: frames outside the video are reported with the image id.
    func testCOCOListErrorsAndFrameIndexIDs() throws {
        let dir = Fixtures.scratch()
        let list: [[String: Any]] = [["image_id": 0, "category_id": 1, "keypoints": Self.pose(10, 10, flag: 2)],
                                     ["image_id": 12, "category_id": 1, "keypoints": Self.pose(20, 10, flag: 2)]]
        let path = try Self.write(list, "list.json", in: dir)
        expectError({ _ = try LabelsFile(path: path, frameCount: 12) }, contains: [path, "image_id 12", "outside the video"])
        let labels = try LabelsFile(path: path, frameCount: 13)
        XCTAssertEqual(labels.format, .coco)
        XCTAssertEqual(labels.mapping, .frameIndex)
        XCTAssertEqual(labels.labelledFrames, [0, 12])
    }

    // MARK: planning

    func testPlanRespectsTheGapAndTheNeighbouringLabelledFrames() throws {
        let dir = Fixtures.scratch()
        let labels = try LabelsFile(path: try Self.write(Self.poseTrackLabels(), "sparse.json", in: dir), frameCount: 11)
        let plan = PropagationPlan(labels, maxGap: 3)
        // Frames 1…4 lie between labelled frames 0 and 5; track 7 has both sides there.
        XCTAssertEqual(plan.tasks[1]?.map(\.trackID), [2, 7])
        XCTAssertEqual(plan.tasks[1]?.last?.sources.map(\.frame), [0])          // frame 5 is 4 away
        XCTAssertEqual(plan.tasks[2]?.last?.sources.map(\.frame), [0, 5])
        XCTAssertEqual(plan.tasks[2]!.last!.sources.map(\.weight)[0], 0.6, accuracy: 1e-12)
        let box = plan.tasks[2]!.last!.box
        XCTAssertEqual(box.x, 0.6 * 90 + 0.4 * 140, accuracy: 1e-9)
        XCTAssertEqual(box.y, 40, accuracy: 1e-9)
        XCTAssertEqual(box.width, 40, accuracy: 1e-9)
        // Track 2 is absent from labelled frame 10: frames 6…9 only get it from frame 5, within the gap.
        XCTAssertEqual(plan.tasks[8]?.map(\.trackID), [2, 7])
        XCTAssertEqual(plan.tasks[8]?.first?.sources.map(\.frame), [5])
        XCTAssertEqual(plan.tasks[9]?.map(\.trackID), [7])
        XCTAssertNil(plan.tasks[5], "labelled frames are not planned")
        let tight = PropagationPlan(labels, maxGap: 1)
        XCTAssertNil(tight.tasks[7], "7 is 2 frames from any labelled frame")
        XCTAssertEqual(tight.tasks[6]?.map(\.trackID), [2, 7])
    }

    /// A COCO document marking a frame labelled (is_labeled) without persons: nobody is carried
    /// across it, and the persons on either side are not linked into one track.
    func testALabelledEmptyFrameStopsPropagation() throws {
        let dir = Fixtures.scratch()
        var images: [[String: Any]] = []
        var annotations: [[String: Any]] = []
        for f in 0..<9 {
            images.append(["id": f, "file_name": String(format: "%06d.jpg", f), "is_labeled": f % 4 == 0])
            if f == 0 || f == 8 {
                annotations.append(["id": f + 1, "image_id": f, "category_id": 1, "keypoints": Self.pose(50, 20, flag: 2),
                                    "bbox": [40, 10, 40, 90]])
            }
        }
        let path = try Self.write(["images": images, "annotations": annotations], "coco.json", in: dir)
        let labels = try LabelsFile(path: path, frameCount: 9)
        XCTAssertEqual(labels.format, .coco)
        XCTAssertEqual(labels.labelledFrames, [0, 4, 8])
        XCTAssertNotEqual(labels.instances[0]?.first?.trackID, labels.instances[8]?.first?.trackID,
                          "the empty labelled frame 4 ends the track")
        let plan = PropagationPlan(labels, maxGap: 3)
        XCTAssertEqual(Set(plan.tasks.keys), [1, 2, 3, 5, 6, 7])
        XCTAssertEqual(plan.tasks[3]?.first?.sources.map(\.frame), [0], "frame 4 has no one to bring")
        XCTAssertEqual(plan.tasks[5]?.first?.sources.map(\.frame), [8])
    }

    // MARK: methods

    func testInterpolateIsLinearPerJointAndCopyTakesTheNearestFrame() throws {
        let dir = Fixtures.scratch()
        var doc = Self.poseTrackLabels()
        // Track 7's left wrist (slot 9) is unlabelled on frame 5.
        var annotations = doc["annotations"] as! [[String: Any]]
        var kp = annotations[2]["keypoints"] as! [Double]
        kp[27] = 0; kp[28] = 0; kp[29] = 0
        annotations[2]["keypoints"] = kp
        doc["annotations"] = annotations
        let labels = try LabelsFile(path: try Self.write(doc, "sparse.json", in: dir), frameCount: 11)
        XCTAssertEqual(labels.instances[5]?[0].trackID, 7)
        let plan = PropagationPlan(labels, maxGap: 3)
        let interpolated = LabelPropagation.run(plan, method: .interpolate, joints: 17)
        let copied = LabelPropagation.run(plan, method: .copy, joints: 17)

        let walker = interpolated[2]!.first { $0.trackID == 7 }!
        // Slot 0 at frame 2: 40 % of the way from frame 0 (x 100) to frame 5 (x 150).
        XCTAssertEqual(walker.keypoints[0][0], 120, accuracy: 1e-9)
        XCTAssertEqual(walker.keypoints[0][1], 50, accuracy: 1e-9)
        XCTAssertEqual(walker.keypoints[0][2], LabelPropagation.distanceScore(2, maxGap: 3))
        // Slot 9 is labelled on frame 0 only: its position there.
        XCTAssertEqual(walker.keypoints[9][0], 100 + 1 * 3, accuracy: 1e-9)
        // The ears are labelled nowhere: nothing propagated.
        XCTAssertEqual(walker.keypoints[3], [0, 0, 0])
        XCTAssertEqual(walker.flags[3], 0)
        XCTAssertEqual(walker.flags[0], 1)
        XCTAssertEqual(walker.score, (0..<17).filter { ![3, 4].contains($0) }.map { _ in LabelPropagation.distanceScore(2, maxGap: 3) }.reduce(0, +) / 15, accuracy: 1e-12)

        let nearest = copied[3]!.first { $0.trackID == 7 }!
        XCTAssertEqual(nearest.keypoints[0][0], 150, "frame 3 copies frame 5, 2 frames away")
        XCTAssertEqual(nearest.keypoints[9], [0, 0, 0], "copy takes the nearest frame only, where slot 9 is unlabelled")
        XCTAssertEqual(nearest.box, plan.tasks[3]!.last!.box)
    }

    // MARK: output

    func testPoseTrackRoundTripKeepsLabelsAndPassesTheEvaluationRules() throws {
        let dir = Fixtures.scratch()
        let input = Self.poseTrackLabels()
        let labels = try LabelsFile(path: try Self.write(input, "sparse.json", in: dir), frameCount: 11)
        let plan = PropagationPlan(labels, maxGap: 3)
        let dense = DenseLabels(labels: labels, propagated: LabelPropagation.run(plan, method: .interpolate, joints: 17))
        let out = dir + "/dense.json"
        try dense.write(to: out)
        let doc = try XCTUnwrap(Self.readJSON(out) as? [String: Any])

        // Every frame present, in order, with PoseTrack ids; the images read are kept.
        let images = try XCTUnwrap(doc["images"] as? [[String: Any]])
        XCTAssertEqual(images.count, 11)
        for (f, image) in images.enumerated() {
            XCTAssertEqual(image["id"] as? Int, BoxesFile.poseTrackFrameID(video: 1, frame: f))
        }
        XCTAssertEqual(images[0] as NSDictionary, (input["images"] as! [[String: Any]])[0] as NSDictionary)
        XCTAssertEqual(images[1]["is_labeled"] as? Bool, true, "frames given poses are marked labelled")
        // Labelled frames' annotations unchanged, in file order.
        let annotations = try XCTUnwrap(doc["annotations"] as? [[String: Any]])
        let original = input["annotations"] as! [[String: Any]]
        let labelledIDs = Set([0, 5, 10].map { BoxesFile.poseTrackFrameID(video: 1, frame: $0) })
        let kept = annotations.filter { labelledIDs.contains($0["image_id"] as! Int) }
        XCTAssertEqual(kept.map { $0 as NSDictionary }, original.map { $0 as NSDictionary })
        // Propagated: track ids of their labels, below PoseTrack's limit, scores, unique ids.
        let propagated = annotations.filter { !labelledIDs.contains($0["image_id"] as! Int) }
        XCTAssertEqual(propagated.count, 4 * 2 + 3 * 2 + 1, "frames 1–4 and 6–8: both tracks; frame 9: track 7 only")
        for a in propagated {
            let track = try XCTUnwrap(a["track_id"] as? Int)
            XCTAssertTrue([2, 7].contains(track))
            XCTAssertLessThan(track, 10_000)
            XCTAssertEqual((a["keypoints"] as? [Any])?.count, 51)
            XCTAssertEqual((a["scores"] as? [Any])?.count, 17)
            XCTAssertNotNil(a["score"] as? Double)
        }
        let ids = annotations.compactMap { $0["id"] as? Int }
        XCTAssertEqual(Set(ids).count, annotations.count)

        // The dense file reads back as labels on every frame.
        let again = try LabelsFile(path: out, frameCount: 11)
        XCTAssertEqual(again.labelledFrames, Array(0..<11).filter { !(plan.tasks[$0] ?? []).isEmpty || [0, 5, 10].contains($0) })
        XCTAssertTrue(again.hasTrackIDs)
    }

    func testCOCODocumentWithFileNamesAndWithoutTrackIDs() throws {
        let dir = Fixtures.scratch()
        // Image ids 1… for frames 0…: mapped by file name; labelled every 4th frame of 9.
        var images: [[String: Any]] = []
        var annotations: [[String: Any]] = []
        for f in stride(from: 0, through: 8, by: 4) {
            images.append(["id": f + 1, "file_name": String(format: "%05d.png", f), "width": 96, "height": 80])
            // Two persons, listed in a different order each time; linked by box overlap.
            let a: [String: Any] = ["id": 10 * f + 1, "image_id": f + 1, "category_id": 1, "iscrowd": 0,
                                    "keypoints": Self.pose(10 + Double(f), 10, flag: 2, unlabelled: []), "bbox": [5 + Double(f), 5, 20, 70], "area": 1400]
            let b: [String: Any] = ["id": 10 * f + 2, "image_id": f + 1, "category_id": 1, "iscrowd": 0,
                                    "keypoints": Self.pose(60, 10, flag: 1, unlabelled: []), "bbox": [55, 5, 20, 70], "area": 1400]
            annotations += f == 4 ? [b, a] : [a, b]
        }
        let input: [String: Any] = ["info": ["description": "test"], "images": images, "annotations": annotations,
                                    "categories": [["id": 1, "name": "person", "keypoints": KeypointSchema.coco17.keypoints]]]
        let labels = try LabelsFile(path: try Self.write(input, "coco.json", in: dir), frameCount: 9)
        XCTAssertEqual(labels.mapping, .fileName)
        XCTAssertFalse(labels.hasTrackIDs)
        XCTAssertEqual(labels.labelledFrames, [0, 4, 8])
        let first = labels.instances[0]!.map(\.trackID), middle = labels.instances[4]!.map(\.trackID)
        XCTAssertEqual(middle, [first[1], first[0]], "the persons keep their tracks across labelled frames")

        let plan = PropagationPlan(labels, maxGap: 2)
        let dense = DenseLabels(labels: labels, propagated: LabelPropagation.run(plan, method: .copy, joints: 17))
        let out = dir + "/dense.json"
        try dense.write(to: out)
        let doc = try XCTUnwrap(Self.readJSON(out) as? [String: Any])
        XCTAssertEqual((doc["info"] as? [String: Any])?["description"] as? String, "test")
        let outImages = try XCTUnwrap(doc["images"] as? [[String: Any]])
        XCTAssertEqual(outImages.map { $0["id"] as! Int }, Array(1...9), "new frames follow the file's id offset")
        XCTAssertEqual(outImages.map { $0["file_name"] as! String }, (0..<9).map { String(format: "%05d.png", $0) })
        XCTAssertEqual(outImages[3]["width"] as? Int, 96)
        let outAnnotations = try XCTUnwrap(doc["annotations"] as? [[String: Any]])
        XCTAssertEqual(outAnnotations.filter { [1, 5, 9].contains($0["image_id"] as! Int) }.map { $0 as NSDictionary },
                       annotations.map { $0 as NSDictionary })
        let frame2 = outAnnotations.filter { $0["image_id"] as? Int == 3 }
        XCTAssertEqual(frame2.count, 2)
        // Frame 2 is as near to 0 as to 4: copy takes the earlier; COCO fields and flags are kept.
        let moving = try XCTUnwrap(frame2.first { $0["track_id"] as? Int == first[0] })
        XCTAssertEqual((moving["keypoints"] as! [Double])[0...2], [10, 10, 2])
        XCTAssertEqual(moving["num_keypoints"] as? Int, 17)
        XCTAssertEqual(moving["iscrowd"] as? Int, 0)
        XCTAssertEqual(Set(outAnnotations.map { $0["id"] as! Int }).count, outAnnotations.count)

        // The keypoint stream: every frame, labelled persons score 1.
        let frames = dense.keypointFrames(fps: 25)
        XCTAssertEqual(frames.map(\.frame), Array(0..<9))
        XCTAssertEqual(frames[0].persons.map(\.score), [1, 1])
        XCTAssertEqual(frames[2].persons.count, 2)
        XCTAssertEqual(frames[2].time, 2.0 / 25)
    }

    // MARK: command line

    func testPropagateCommandWritesDenseLabelsAndTheStream() throws {
        let dir = Fixtures.scratch()
        try Fixtures.makeVideo(dir + "/clip.mp4", frames: 9)
        let labels = try Self.write(Self.poseTrackLabels(frames: 9, step: 4), "sparse.json", in: dir)
        let r = try CLITests.run(["propagate", dir + "/clip.mp4", "--labels", labels, "--out", dir + "/dense.json",
                                  "--method", "interpolate", "--max-gap", "2", "--keypoints", dir + "/k.jsonl"])
        XCTAssertEqual(r.code, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("9 frames, 3 labelled"), r.stderr)
        let doc = try XCTUnwrap(Self.readJSON(dir + "/dense.json") as? [String: Any])
        XCTAssertEqual((doc["images"] as? [Any])?.count, 9)
        let (header, frames) = try KeypointStream.read(path: dir + "/k.jsonl")
        XCTAssertEqual(header?.video?.frames, 9)
        XCTAssertEqual(frames.map(\.frame), Array(0..<9))
        XCTAssertEqual(frames[1].persons.map(\.trackID), [2, 7])

        // Labels past the video's end: exit 1, the file named, nothing written.
        let long = try Self.write(Self.poseTrackLabels(frames: 13, step: 4), "long.json", in: dir)
        let bad = try CLITests.run(["propagate", dir + "/clip.mp4", "--labels", long, "--out", dir + "/bad.json", "--method", "copy"])
        XCTAssertEqual(bad.code, 1)
        XCTAssertTrue(bad.stderr.contains(long) && bad.stderr.contains("outside the video (frames 0…8)"), bad.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/bad.json"))
        let usage = try CLITests.run(["propagate", dir + "/clip.mp4", "--labels", labels, "--out", dir + "/x.json", "--method", "flow"])
        XCTAssertEqual(usage.code, 64, usage.stderr)
    }
}
