import Foundation
import Keypoints
import XCTest
@testable import Pipeline

/// The staged job with stand-in stages: order, temporal windows, caching, back-pressure, outputs.
final class JobTests: XCTestCase {
    func testFramesInOrderWithMmposeWindowsThroughTheWholeJob() throws {
        let (job, _) = fakeJob()
        let source = SyntheticSource(count: 9)
        var frames: [FrameKeypoints] = []
        let summary = try job.run(source: source, persons: MovingBoxes(), outputs: [CallbackOutput { frames.append($0.keypoints) }],
                                  description: describe(source))
        XCTAssertEqual(summary.frames, 9)
        XCTAssertEqual(frames.map(\.frame), Array(0..<9))
        // Keypoint x = grey level = index of each support frame, in offset order [0, −2, −1, +1, +2].
        XCTAssertEqual(frames[0].persons[0].keypoints.map { Int($0[0]) }, [0, 0, 0, 1, 2])
        XCTAssertEqual(frames[1].persons[0].keypoints.map { Int($0[0]) }, [1, 0, 0, 2, 3])
        XCTAssertEqual(frames[4].persons[1].keypoints.map { Int($0[0]) }, [4, 2, 3, 5, 6])
        XCTAssertEqual(frames[7].persons[0].keypoints.map { Int($0[0]) }, [7, 5, 6, 8, 8])
        XCTAssertEqual(frames[8].persons[0].keypoints.map { Int($0[0]) }, [8, 6, 7, 8, 8])
        // Ids follow the two moving boxes.
        XCTAssertEqual(Set(frames.map { $0.persons.map(\.trackID!) }.map { $0 }), [[0, 1]])
        XCTAssertEqual(frames[3].persons[0].bboxScore, 0.9)
    }

    /// The smoothing stage follows track ids and holds half a window back, yet every frame reaches
    /// the outputs, in order, with its own picture.
    func testSmoothingKeepsEveryFrameInOrderAndSmoothsPerTrack() throws {
        let source = SyntheticSource(count: 12)
        var raw: [FrameKeypoints] = [], smoothed: [FrameKeypoints] = [], pictures: [Int] = []
        _ = try fakeJob().0.run(source: source, persons: MovingBoxes(), outputs: [CallbackOutput { raw.append($0.keypoints) }],
                                description: describe(source))
        let source2 = SyntheticSource(count: 12)
        let (job, _) = fakeJob(smoothing: .gaussian(window: 5, sigma: 1))
        let summary = try job.run(source: source2, persons: MovingBoxes(), outputs: [CallbackOutput {
            smoothed.append($0.keypoints); pictures.append($0.image.index)
        }], description: describe(source2))
        XCTAssertEqual(summary.frames, 12)
        XCTAssertEqual(smoothed.map(\.frame), Array(0..<12))
        XCTAssertEqual(pictures, Array(0..<12))
        XCTAssertEqual(smoothed.map { $0.persons.map(\.trackID) }, raw.map { $0.persons.map(\.trackID) })
        // Slot 3 (the frame t+1's grey level) moves linearly inside the video: a centred window keeps
        // it; slot 4 is clipped at the end (t+2 → 11), a kink the window rounds off.
        XCTAssertEqual(smoothed[5].persons[0].keypoints[3][0], raw[5].persons[0].keypoints[3][0], accuracy: 1e-9)
        XCTAssertNotEqual(smoothed[10].persons[0].keypoints[4][0], raw[10].persons[0].keypoints[4][0])
        XCTAssertEqual(smoothed[5].persons[0].bbox, raw[5].persons[0].bbox)
    }

    func testWholeFrameEncodesEachFrameOnce() throws {
        let (job, network) = fakeJob()
        let source = SyntheticSource(count: 12)
        let summary = try job.run(source: source, persons: WholeFramePersons(), outputs: [], description: describe(source))
        XCTAssertEqual(summary.frames, 12)
        XCTAssertEqual(network.encodeCalls, 12, "each frame's backbone features are computed once and reused by 5 windows")
        XCTAssertEqual(summary.cropsReused, 12 * 5 - 12)
        // With moving boxes nothing repeats: 5 crops per person per frame.
        let (job2, network2) = fakeJob()
        let source2 = SyntheticSource(count: 6)
        _ = try job2.run(source: source2, persons: MovingBoxes(), outputs: [], description: describe(source2))
        // Distinct support frames per window for 6 frames: 3, 4, 5, 5, 4, 3 (clipped repeats are one crop).
        XCTAssertEqual(network2.encodeCalls, 2 * (3 + 4 + 5 + 5 + 4 + 3))
    }

    func testSegmentReadsContextButWritesOnlyTheRange() throws {
        let (job, _) = fakeJob()
        let source = SyntheticSource(count: 10)
        var frames: [FrameKeypoints] = []
        _ = try job.run(source: source, persons: MovingBoxes(), outputs: [CallbackOutput { frames.append($0.keypoints) }],
                        description: describe(source), outputRange: 3..<6)
        XCTAssertEqual(frames.map(\.frame), [3, 4, 5])
        XCTAssertEqual(frames[0].persons[0].keypoints.map { Int($0[0]) }, [3, 1, 2, 4, 5])
    }

    /// Back-pressure: a slow network holds the decoder back, so frames in flight stay bounded.
    func testMemoryIsBoundedByTheWindowNotTheVideo() throws {
        let (job, network) = fakeJob()
        network.delay = 0.002
        let source = SyntheticSource(count: 120)
        var maxInFlight = 0
        var written = 0
        _ = try job.run(source: source, persons: WholeFramePersons(), outputs: [CallbackOutput { _ in
            written += 1
            maxInFlight = max(maxInFlight, source.produced - written)
        }], description: describe(source))
        XCTAssertEqual(written, 120)
        // 2 (decode queue) + 5 (window) + 2 (output queue) + one being handled by each stage.
        XCTAssertLessThanOrEqual(maxInFlight, 12)
    }

    /// `realtime`: a network slower than the source drops frames instead of holding the source back;
    /// the written frames keep their own indices and times, the count of dropped ones is reported.
    func testRealtimeDropsFramesWhenTheNetworkFallsBehind() throws {
        let (job, network) = fakeJob()
        network.delay = 0.01
        job.realtime = true
        let source = SyntheticSource(count: 200)
        var frames: [FrameKeypoints] = []
        let summary = try job.run(source: source, persons: WholeFramePersons(), outputs: [CallbackOutput { frames.append($0.keypoints) }],
                                  description: describe(source))
        XCTAssertTrue(summary.complete)
        XCTAssertEqual(summary.frames, frames.count)
        XCTAssertGreaterThan(summary.framesDropped, 0)
        XCTAssertEqual(summary.frames + summary.framesDropped, 200)
        let indices = frames.map(\.frame)
        XCTAssertEqual(indices, indices.sorted())
        XCTAssertEqual(Set(indices).count, indices.count)
        for f in frames {
            XCTAssertEqual(f.time, Double(f.frame) / 25, accuracy: 1e-9)
            // The current frame is the window's first support frame: its grey level is its own index.
            XCTAssertEqual(Int(f.persons[0].keypoints[0][0]), f.frame % 256)
        }
        // Without `realtime` nothing is dropped.
        let (job2, network2) = fakeJob()
        network2.delay = 0.002
        let source2 = SyntheticSource(count: 30)
        let summary2 = try job2.run(source: source2, persons: WholeFramePersons(), outputs: [], description: describe(source2))
        XCTAssertEqual(summary2.frames, 30)
        XCTAssertEqual(summary2.framesDropped, 0)
    }

    func testCancelStopsWithValidStreamAndNoIncompleteEvaluationFiles() throws {
        let (job, network) = fakeJob()
        network.delay = 0.001
        let source = SyntheticSource(count: 500)
        let jsonl = temporaryPath("cancel.jsonl"), coco = temporaryPath("cancel.coco.json"), pt = temporaryPath("cancel.pt.json")
        let summary = try job.run(source: source, persons: WholeFramePersons(),
                                  outputs: [KeypointStreamOutput(path: jsonl), COCOResultsOutput(path: coco), PoseTrackOutput(path: pt)],
                                  description: describe(source), progress: { p in if p.framesDone == 10 { job.cancel() } })
        XCTAssertTrue(summary.cancelled)
        XCTAssertGreaterThanOrEqual(summary.frames, 10)
        XCTAssertLessThan(summary.frames, 30)
        XCTAssertFalse(summary.complete)
        let stream = try KeypointStream.read(path: jsonl)
        XCTAssertEqual(stream.frames.map(\.frame), Array(0..<summary.frames))
        // COCO and PoseTrack files need every frame: a cancelled run does not produce them.
        XCTAssertEqual(summary.notWritten, [coco, pt])
        XCTAssertFalse(FileManager.default.fileExists(atPath: coco))
        XCTAssertFalse(FileManager.default.fileExists(atPath: pt))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: (coco as NSString).deletingLastPathComponent)
            .filter { $0.hasPrefix(".cancel") }
        XCTAssertEqual(leftovers, [])
    }

    func testStageFailureAbortsOutputsAndLeavesNoPartialFiles() throws {
        final class Failing: PersonSource {
            func boxes(in frame: VideoFrame) throws -> [PersonBox] {
                if frame.index == 5 { throw PipelineError.badInput("boxes.json: frame 5 is broken") }
                return [PersonBox(x: 0, y: 0, width: 4, height: 4)]
            }
        }
        let (job, _) = fakeJob()
        let source = SyntheticSource(count: 20)
        let coco = temporaryPath("fail.coco.json")
        XCTAssertThrowsError(try job.run(source: source, persons: Failing(), outputs: [COCOResultsOutput(path: coco)],
                                         description: describe(source))) { XCTAssertEqual("\($0)", "boxes.json: frame 5 is broken") }
        XCTAssertFalse(FileManager.default.fileExists(atPath: coco))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: (coco as NSString).deletingLastPathComponent)
        XCTAssertFalse(leftovers.contains { $0.contains("fail.coco.json") }, "\(leftovers)")
    }
}

import Video
