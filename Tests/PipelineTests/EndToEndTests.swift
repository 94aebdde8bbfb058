import Foundation
import Keypoints
import Video
import XCTest
@testable import Pipeline

/// The real job (Video decoding, Engine crops, Models network and decoding) on clips made here.
final class EndToEndTests: XCTestCase {
    /// The temporal window at the clip's first and last frames (and all between), against mmpose's
    /// computation in PyTorch: support frames clipped to [0, 5], every one cropped with frame t's box.
    func testTemporalWindowMatchesThePyTorchReferenceOnASixFrameClip() throws {
        let expectedData = try Data(contentsOf: URL(fileURLWithPath: Fixtures.window6 + "/expected.json"))
        let expected = try JSONSerialization.jsonObject(with: expectedData) as! [String: Any]
        let checkpoint = try Data(contentsOf: URL(fileURLWithPath: Fixtures.tinyPoseWarper))
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in checkpoint { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        XCTAssertEqual(String(format: "%016lx", hash), expected["checkpoint_fnv1a64"] as? String,
                       "tiny_posewarper.pth changed: rerun Tools/reference/make_pipeline_fixtures.py")

        let job = try PoseJob(pipeline: try PipelineFile.load(Fixtures.tinyPipeline))
        let out = Collected()
        let summary = try job.run(input: Fixtures.window6, outputs: [.custom(out)])
        XCTAssertEqual(summary.frames, 6)
        XCTAssertEqual(out.frames.map(\.frame), Array(0..<6))
        let reference = expected["keypoints"] as! [[[Any]]]
        let boxes = expected["boxes"] as! [[Double]]
        var compared = 0
        for t in 0..<6 {
            XCTAssertEqual(out.frames[t].persons.count, 1)
            let person = out.frames[t].persons[0]
            XCTAssertEqual(person.bbox, boxes[t])
            for k in 0..<17 {
                let ref = reference[t][k]
                guard ref[3] as! Bool else { continue }   // a float32 near-tie: the decision may go either way
                let (x, y, s) = (ref[0] as! Double, ref[1] as! Double, ref[2] as! Double)
                XCTAssertEqual(person.keypoints[k][0], x, accuracy: 1e-3, "frame \(t) keypoint \(k) x")
                XCTAssertEqual(person.keypoints[k][1], y, accuracy: 1e-3, "frame \(t) keypoint \(k) y")
                XCTAssertEqual(person.keypoints[k][2], s, accuracy: 1e-4 * max(1, abs(s)), "frame \(t) keypoint \(k) score")
                compared += 1
            }
        }
        XCTAssertGreaterThan(compared, 90)
    }

    func testVideoEndToEndFrameCountOrderSchemaAndEveryOutput() throws {
        let dir = Fixtures.scratch()
        let input = dir + "/clip.mp4"
        try Fixtures.makeVideo(input, frames: 12)
        let job = try PoseJob(pipeline: try PipelineFile.load(try Fixtures.tinyPipeline(in: dir)))
        let summary = try job.run(input: input, persons: .wholeFrame, outputs: [
            .keypoints(dir + "/k.jsonl"), .coco(dir + "/coco.json"), .posetrack(dir + "/pt.json"), .video(dir + "/out.mp4"),
        ])
        XCTAssertEqual(summary.frames, 12)
        XCTAssertEqual(summary.cropsEncoded, 12, "whole-frame mode runs the backbone once per frame")

        let stream = try KeypointStream.read(path: dir + "/k.jsonl")
        XCTAssertEqual(stream.header?.knownSchema, .posetrack18)
        XCTAssertEqual(stream.header?.video, KeypointStreamHeader.VideoInfo(width: 96, height: 80, fps: 25, frames: 12))
        XCTAssertEqual(stream.frames.map(\.frame), Array(0..<12))
        for (t, f) in stream.frames.enumerated() {
            XCTAssertEqual(f.time, Double(t) / 25, accuracy: 1e-6)
            XCTAssertEqual(f.persons.count, 1)
            XCTAssertEqual(f.persons[0].keypoints.count, 17)
            XCTAssertEqual(f.persons[0].bbox, [0, 0, 96, 80])
            XCTAssertEqual(f.persons[0].trackID, 0)
        }

        let coco = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/coco.json"))) as! [[String: Any]]
        XCTAssertEqual(coco.map { $0["image_id"] as! Int }, Array(0..<12))
        XCTAssertTrue(coco.allSatisfy { ($0["keypoints"] as! [Double]).count == 51 && $0["category_id"] as! Int == 1 })

        let pt = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/pt.json"))) as! [String: Any]
        let images = pt["images"] as! [[String: Any]]
        XCTAssertEqual(images.map { $0["id"] as! Int }, (0..<12).map { 10_000_000_000 + $0 })
        let annotations = pt["annotations"] as! [[String: Any]]
        XCTAssertEqual(annotations.count, 12)
        for a in annotations {
            XCTAssertEqual((a["keypoints"] as! [Double]).count, 51)
            XCTAssertEqual((a["scores"] as! [Double]).count, 17)
            XCTAssertLessThan(a["track_id"] as! Int, 10_000)
            XCTAssertEqual((a["bbox"] as! [Double]).count, 4)
        }

        // The annotated video: every frame, the input's timestamps, skeletons drawn.
        let original = try VideoReader(input), annotated = try VideoReader(dir + "/out.mp4")
        var times: [(Double, Double)] = []
        var changedPixels = 0
        while let a = try original.next() {
            guard let b = try annotated.next() else { break }
            times.append((a.time, b.time))
            changedPixels += zip(a.rgb, b.rgb).filter { abs(Int($0) - Int($1)) > 60 }.count
        }
        XCTAssertNil(try annotated.next())
        XCTAssertEqual(times.count, 12)
        for (a, b) in times { XCTAssertEqual(a, b, accuracy: 1e-6) }
        XCTAssertGreaterThan(changedPixels, 100, "the overlay must draw something")
    }

    /// The annotated video of a segment keeps the input's audio (Samples/walker.mp4 has an AAC track).
    func testAnnotatedVideoKeepsTheAudio() throws {
        let dir = Fixtures.scratch()
        let input = Fixtures.packageRoot.appendingPathComponent("Samples/walker.mp4").path
        XCTAssertTrue(try VideoReader(input).info.hasAudio)
        let job = try PoseJob(pipeline: try PipelineFile.load(try Fixtures.tinyPipeline(in: dir)))
        let summary = try job.run(input: input, persons: .wholeFrame, outputs: [.video(dir + "/out.mp4")], start: 5, end: 15)
        XCTAssertEqual(summary.frames, 10)
        let out = try VideoReader(dir + "/out.mp4")
        XCTAssertTrue(out.info.hasAudio)
        XCTAssertEqual(out.info.width, 320)
        var frames = 0
        while try out.next() != nil { frames += 1 }
        XCTAssertEqual(frames, 10)
        if let duration = out.info.duration { XCTAssertLessThan(duration, 1.0, "the segment's audio only") }
    }

    func testBoxesFileWithPoseTrackIDsDrivesPersonsAndOutputIDs() throws {
        let dir = Fixtures.scratch()
        let input = dir + "/000042_walk.mp4"
        try Fixtures.makeVideo(input, frames: 6)
        var entries: [[String: Any]] = []
        for t in 0..<6 {
            entries.append(["image_id": 10_000_420_000 + t, "bbox": [5 + t, 5, 30, 60], "score": 0.9, "category_id": 1])
            if t % 2 == 0 { entries.append(["image_id": 10_000_420_000 + t, "bbox": [55, 10, 30, 60], "score": 0.7, "category_id": 1]) }
            entries.append(["image_id": 10_000_420_000 + t, "bbox": [0, 0, 9, 9], "score": 0.1, "category_id": 1])   // below 0.2
            entries.append(["image_id": 10_000_070_000 + t, "bbox": [1, 1, 9, 9], "score": 0.9, "category_id": 1])   // other video
        }
        try JSONSerialization.data(withJSONObject: entries).write(to: URL(fileURLWithPath: dir + "/boxes.json"))
        let job = try PoseJob(pipeline: try PipelineFile.load(try Fixtures.tinyPipeline(in: dir)))
        let out = Collected()
        _ = try job.run(input: input, persons: .boxesFile(dir + "/boxes.json"), outputs: [.custom(out), .posetrack(dir + "/pt.json")])
        XCTAssertEqual(out.frames.map { $0.persons.count }, [2, 1, 2, 1, 2, 1])
        XCTAssertEqual(out.frames.map { $0.persons[0].bbox[0] }, [5, 6, 7, 8, 9, 10])
        XCTAssertEqual(Set(out.frames.map { $0.persons[0].trackID! }).count, 1, "the moving person keeps its id")
        XCTAssertEqual(out.run?.imageIDs, .poseTrack(video: 42))
        let pt = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/pt.json"))) as! [String: Any]
        XCTAssertEqual((pt["images"] as! [[String: Any]]).map { $0["id"] as! Int }, (0..<6).map { 10_000_420_000 + $0 })
        XCTAssertEqual((pt["annotations"] as! [Any]).count, 9)
    }

    func testSegmentEqualsTheSameFramesOfAWholeRun() throws {
        let dir = Fixtures.scratch()
        let input = dir + "/clip.mp4"
        try Fixtures.makeVideo(input, frames: 10)
        let job = try PoseJob(pipeline: try PipelineFile.load(try Fixtures.tinyPipeline(in: dir)))
        let whole = Collected(), part = Collected()
        _ = try job.run(input: input, persons: .wholeFrame, outputs: [.custom(whole)])
        _ = try job.run(input: input, persons: .wholeFrame, outputs: [.custom(part)], start: 4, end: 7)
        XCTAssertEqual(part.frames.map(\.frame), [4, 5, 6])
        for f in part.frames {
            XCTAssertEqual(f.persons.map(\.keypoints), whole.frames[f.frame].persons.map(\.keypoints), "frame \(f.frame)")
        }
    }

    /// Segments of a run whose detector skips frames (every_n_frames 3) equal the whole run's
    /// frames: the detector runs on the same frames (multiples of 3), whatever the segment's start.
    func testDetectorSegmentsEqualTheWholeRun() throws {
        let dir = Fixtures.scratch()
        let input = dir + "/clip.mp4"
        try Fixtures.makeVideo(input, frames: 13)
        var config = try PipelineFile.load(try Fixtures.tinyPipeline(in: dir))
        config.persons.detector.everyNFrames = 3
        let job = try PoseJob(pipeline: config)
        let whole = Collected()
        let wholeDetector = DetectorStageTests.CountingDetector()
        try job.run(input: input, persons: .source(wholeDetector), outputs: [.custom(whole)])
        XCTAssertEqual(wholeDetector.frames, [0, 3, 6, 9, 12])
        for n in [2, 5] {
            var detected: [Int] = []
            for i in 0..<n {
                let part = Collected()
                let detector = DetectorStageTests.CountingDetector()
                try job.run(input: input, persons: .source(detector), outputs: [.custom(part)], segment: try job.part(of: FrameSegment(index: i, count: n), in: input))
                detected += detector.frames
                for f in part.frames {
                    XCTAssertEqual(f.persons.map(\.bbox), whole.frames[f.frame].persons.map(\.bbox), "\(i)/\(n): frame \(f.frame)")
                    XCTAssertEqual(f.persons.map(\.keypoints), whole.frames[f.frame].persons.map(\.keypoints), "\(i)/\(n): frame \(f.frame)")
                }
            }
            XCTAssertEqual(Set(detected), Set(wholeDetector.frames), "\(n) segments detect on the whole run's frames only")
        }
    }

    func testTopDownCheckpointRunsSingleFrameWithFlipTest() throws {
        let dir = Fixtures.scratch()
        let input = dir + "/clip.mp4"
        try Fixtures.makeVideo(input, frames: 4)
        let yml = """
        model:
          weights: \(Fixtures.tinyTopDown)
          schema: coco17
          input_size: [32, 64]
          flip_test: FLIP
        persons:
          source: whole_frame
        """
        var results: [[[Double]]] = []
        for flip in ["true", "false"] {
            let config = try PipelineFile.parse(yml.replacingOccurrences(of: "FLIP", with: flip), path: dir + "/td.yml")
            let out = Collected()
            let summary = try PoseJob(pipeline: config).run(input: input, outputs: [.custom(out)])
            XCTAssertEqual(summary.frames, 4)
            XCTAssertEqual(out.run?.schema, .coco17)
            results.append(out.frames[0].persons[0].keypoints)
        }
        XCTAssertNotEqual(results[0], results[1], "flip test must change the heatmaps")
    }

    func testModelAndPipelineMismatchIsAClearError() throws {
        var config = try PipelineFile.load(Fixtures.tinyPipeline)
        config.model.weights = Fixtures.tinyTopDown
        XCTAssertThrowsError(try PoseJob(pipeline: config)) {
            XCTAssertTrue("\($0)".contains("single-frame top-down model but the pipeline has a temporal window"), "\($0)")
        }
        XCTAssertThrowsError(try PoseJob(pipeline: config, weights: "/nonexistent/w.pth")) {
            XCTAssertTrue("\($0)".hasPrefix("/nonexistent/w.pth: weights file not found"), "\($0)")
        }
    }

    /// The real PoseTrack18 clip (mp4 and its jpg folder) end to end; skipped when not present.
    func testRealPoseTrackClip() throws {
        let mp4 = Fixtures.realClip + "/000001_mpiinew_test.mp4"
        guard FileManager.default.fileExists(atPath: mp4) else { throw XCTSkip("\(Fixtures.realClip) is not present") }
        let dir = Fixtures.scratch()
        let job = try PoseJob(pipeline: try PipelineFile.load(try Fixtures.tinyPipeline(in: dir)))
        for input in [mp4, Fixtures.realClip] {
            let out = Collected()
            let summary = try job.run(input: input, persons: .wholeFrame, outputs: [.custom(out), .posetrack(dir + "/pt.json")])
            XCTAssertEqual(summary.frames, 5, input)
            XCTAssertEqual(out.frames.map(\.frame), Array(0..<5))
            XCTAssertTrue(out.frames.allSatisfy { $0.persons.count == 1 && $0.persons[0].bbox == [0, 0, 1280, 720] })
            let pt = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/pt.json"))) as! [String: Any]
            let ids = (pt["images"] as! [[String: Any]]).map { $0["id"] as! Int }
            XCTAssertEqual(ids, (0..<5).map { (input == mp4 ? 10_000_010_000 : 10_000_000_000) + $0 })
        }
    }
}
