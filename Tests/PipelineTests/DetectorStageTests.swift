import Foundation
import Keypoints
import Tensors
import XCTest
@testable import Pipeline
import Video

/// The detector stage with `every_n_frames`: which frames run the detector, which take the boxes of
/// earlier keypoints (and which earlier frame), ids kept across both, the same result at any speed,
/// and no hang when a run stops while the stage waits for keypoints.
final class DetectorStageTests: XCTestCase {
    /// Two boxes per frame moving right (like `MovingBoxes`); records the frames it ran on.
    final class CountingDetector: PersonDetector, @unchecked Sendable {
        private let lock = NSLock()
        private var ran: [Int] = []
        var frames: [Int] { lock.lock(); defer { lock.unlock() }; return ran }
        func boxes(in frame: VideoFrame) throws -> [PersonBox] {
            lock.lock(); ran.append(frame.index); lock.unlock()
            let x = Double(frame.index) * 0.5
            return [PersonBox(x: x, y: 0, width: 10, height: 20, score: 0.9), PersonBox(x: x + 30, y: 10, width: 10, height: 20, score: 0.8)]
        }
    }

    /// Two confident keypoints spanning 0.9 of the crop's box about its centre, and one low-scored
    /// keypoint far away that must not count: each keypoint box is the box it came from, 1.125× larger.
    final class CornerDecoder: KeypointDecodingStage {
        func decode(_ heatmaps: Tensor, transforms: [CropTransform]) -> [[[Double]]] {
            transforms.map { t in
                let cx = Double(t.center.x), cy = Double(t.center.y)
                let hw = Double(t.scale.w) * 100 * 0.9, hh = Double(t.scale.h) * 100 * 0.9
                return [[cx - hw, cy - hh, 0.9], [cx + hw, cy + hh, 0.8], [1000, 1000, 0.1]]
            }
        }
    }

    private func run(offsets: [Int], everyN: Int, frames: Int, delay: TimeInterval = 0,
                     cancelAt: Int? = nil) throws -> (frames: [FrameKeypoints], detector: CountingDetector, summary: PoseJob.Summary) {
        var config = PipelineConfig.poseWarperPoseTrack18
        config.temporal.frameOffsets = offsets
        config.temporal.frameWeights = offsets.map { _ in 1 }
        config.persons.detector.everyNFrames = everyN
        let network = RecordingNetwork()
        network.delay = delay
        let job = PoseJob(config: config, crops: GreyCrop(), network: network, decoder: CornerDecoder())
        let detector = CountingDetector()
        let source = SyntheticSource(count: frames)
        var out: [FrameKeypoints] = []
        let summary = try job.run(source: source, persons: detector, outputs: [CallbackOutput { out.append($0.keypoints) }],
                                  description: describe(source),
                                  progress: { p in if p.framesDone == cancelAt { job.cancel() } })
        return (out, detector, summary)
    }

    private func scaled(_ box: [Double], _ f: Double) -> [Double] {
        let cx = box[0] + box[2] / 2, cy = box[1] + box[3] / 2
        return [cx - box[2] * f / 2, cy - box[3] * f / 2, box[2] * f, box[3] * f]
    }

    private func assertBoxes(_ got: [[Double]], _ want: [[Double]], _ message: String, line: UInt = #line) {
        XCTAssertEqual(got.count, want.count, message, line: line)
        for (g, w) in zip(got, want) {
            for (a, b) in zip(g, w) { XCTAssertEqual(a, b, accuracy: 1e-4, message, line: line) }
        }
    }

    func testTheJobRunsTheDetectorAsItsOwnStage() {
        let (job, _) = fakeJob()
        XCTAssertEqual(job.stages(persons: CountingDetector(), outputs: []).map(\.name),
                       ["detector", "network", "keypoint decoding", "tracking", "outputs"])
    }

    func testSingleFrameModelTakesTheBoxesOfThePreviousFramesKeypoints() throws {
        let r = try run(offsets: [0], everyN: 3, frames: 8)
        XCTAssertEqual(r.detector.frames, [0, 3, 6])
        XCTAssertEqual(r.summary.framesDetected, 3)
        XCTAssertEqual(r.summary.framesFromKeypoints, 5)
        XCTAssertEqual(r.frames.map(\.frame), Array(0..<8))
        let detected = { (i: Int) in [[Double(i) * 0.5, 0, 10, 20], [Double(i) * 0.5 + 30, 10, 10, 20]] }
        for i in 0..<8 {
            let d = i - i % 3   // the last detection
            // Each frame after a detection grows the box by the keypoints' 1.125 (0.9 × rtmlib's 1.25).
            let want = detected(d).map { scaled($0, pow(1.125, Double(i - d))) }
            assertBoxes(r.frames[i].persons.map(\.bbox), want, "frame \(i)")
            XCTAssertEqual(r.frames[i].persons.map(\.bboxScore), [0.9, 0.8], "the detection's score carries over")
            XCTAssertEqual(r.frames[i].persons.map(\.trackID), [0, 1], "ids kept across detected and keypoint-boxed frames")
        }
    }

    func testTemporalModelUsesKeypointsLookAheadPlusOneFramesBack() throws {
        // PoseWarper's window [0, −2, −1, +1, +2]: a frame's keypoints exist 3 frames after it passed
        // the detector stage, so frame i takes the keypoints of frame i − 3 when that frame is not
        // older than the last detection, else the last detection's boxes.
        let r = try run(offsets: [0, -2, -1, 1, 2], everyN: 5, frames: 12)
        XCTAssertEqual(r.detector.frames, [0, 5, 10])
        XCTAssertEqual(r.summary.framesFromKeypoints, 4)   // frames 3, 4 (keypoints of 0, 1) and 8, 9
        let detected = { (i: Int) in [[Double(i) * 0.5, 0, 10, 20], [Double(i) * 0.5 + 30, 10, 10, 20]] }
        for i in 0..<12 {
            let d = i - i % 5
            let want = i % 5 >= 3 ? detected(d).map { scaled($0, 1.125) } : detected(d)
            assertBoxes(r.frames[i].persons.map(\.bbox), want, "frame \(i)")
            XCTAssertEqual(r.frames[i].persons.map(\.trackID), [0, 1], "frame \(i)")
        }
    }

    /// A range starting between two detections (a segment, --start) is processed from the detection
    /// before it: the detector runs on the whole run's frames, the keypoint boxes fed back are the
    /// same, and so are the range's boxes and keypoints; the frames before the range are not written.
    func testARangeBetweenDetectionsEqualsTheWholeRun() throws {
        var config = PipelineConfig.poseWarperPoseTrack18
        config.temporal.frameOffsets = [0, -1, 1]
        config.temporal.frameWeights = [1, 1, 1]
        config.persons.detector.everyNFrames = 4
        func run(_ range: Range<Int>?, warmUp: Bool = true) throws -> (frames: [FrameKeypoints], detected: [Int]) {
            let job = PoseJob(config: config, crops: GreyCrop(), network: RecordingNetwork(), decoder: CornerDecoder())
            let detector = CountingDetector()
            let source = SyntheticSource(count: 14)
            var out: [FrameKeypoints] = []
            let start = range.flatMap { warmUp ? job.processingStart(outputStart: $0.lowerBound, persons: .source(detector)) : nil }
            try job.run(source: source, persons: detector, outputs: [CallbackOutput { out.append($0.keypoints) }], description: describe(source),
                        outputRange: range ?? 0..<Int.max, processingStart: start)
            return (out, detector.frames)
        }
        let whole = try run(nil)
        XCTAssertEqual(whole.detected, [0, 4, 8, 12])
        for range in [5..<11, 4..<9, 7..<14, 1..<3, 11..<12] {
            let part = try run(range)
            XCTAssertEqual(part.frames.map(\.frame), Array(range))
            XCTAssertEqual(part.detected, whole.detected.filter { $0 >= range.lowerBound - range.lowerBound % 4 && $0 < range.upperBound })
            for f in part.frames {
                XCTAssertEqual(f.persons.map(\.bbox), whole.frames[f.frame].persons.map(\.bbox), "\(range): frame \(f.frame)")
                XCTAssertEqual(f.persons.map(\.keypoints), whole.frames[f.frame].persons.map(\.keypoints), "\(range): frame \(f.frame)")
            }
        }
        // Detecting from the range's own start instead gives other boxes.
        let naive = try run(5..<11, warmUp: false)
        XCTAssertEqual(naive.detected, [5, 9])
        XCTAssertNotEqual(naive.frames.map { $0.persons.map(\.bbox) }, whole.frames[5..<11].map { $0.persons.map(\.bbox) })
    }

    func testSameBoxesAtAnySpeed() throws {
        let fast = try run(offsets: [0, -1, 1], everyN: 4, frames: 14)
        let slow = try run(offsets: [0, -1, 1], everyN: 4, frames: 14, delay: 0.003)
        XCTAssertEqual(fast.frames, slow.frames)
        XCTAssertGreaterThan(fast.summary.framesFromKeypoints, 0)
    }

    func testCancelWhileWaitingForKeypointsEndsTheRun() throws {
        let r = try run(offsets: [0], everyN: 2, frames: 400, delay: 0.002, cancelAt: 5)
        XCTAssertTrue(r.summary.cancelled)
        XCTAssertLessThan(r.frames.count, 400)
        XCTAssertEqual(r.frames.map(\.frame), Array(0..<r.frames.count))
    }

    func testKeypointBoxIgnoresLowScoredKeypointsAndNeedsTwo() {
        let memory = KeypointBoxes()
        let person = PersonPose(bbox: [0, 0, 1, 1], bboxScore: 0.7, score: 0.5,
                                keypoints: [[10, 20, 0.9], [30, 60, 0.3], [500, 500, 0.29]])
        XCTAssertEqual(memory.box(of: person), PersonBox(x: 7.5, y: 15, width: 25, height: 50, score: 0.7))
        XCTAssertNil(memory.box(of: PersonPose(bbox: [0, 0, 1, 1], score: 0.5, keypoints: [[10, 20, 0.9], [30, 60, 0.1]])))
    }
}
