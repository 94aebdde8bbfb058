import Foundation
import Keypoints
import XCTest
@testable import Pipeline

/// `--segment i/n` ranges and `SegmentMerge`: parts joined back into the single run's stream.
final class SegmentTests: XCTestCase {
    func testRangesCoverEveryFrameOnce() throws {
        for total in [1, 7, 100, 101] {
            for n in 1...min(total, 9) {
                let ranges = try (0..<n).map { try FrameSegment(index: $0, count: n).range(frameCount: total) }
                XCTAssertEqual(ranges.first?.lowerBound, 0)
                XCTAssertEqual(ranges.last?.upperBound, total)
                for (a, b) in zip(ranges, ranges.dropFirst()) { XCTAssertEqual(a.upperBound, b.lowerBound) }
                XCTAssertFalse(ranges.contains { $0.isEmpty }, "\(total) frames in \(n) segments")
            }
        }
    }

    func testParseExplicitAndFromTheClusterEnvironment() throws {
        XCTAssertEqual(try FrameSegment.parse("2/5"), try FrameSegment(index: 2, count: 5))
        XCTAssertEqual(try FrameSegment.parse("auto/4", environment: ["SLURM_ARRAY_TASK_ID": "3"]), try FrameSegment(index: 3, count: 4))
        XCTAssertEqual(try FrameSegment.parse("auto/4", environment: ["JOB_COMPLETION_INDEX": "1"]), try FrameSegment(index: 1, count: 4))
        XCTAssertEqual(try FrameSegment.parse("auto/4", environment: ["POSEWARPER_SEGMENT": "0", "SLURM_ARRAY_TASK_ID": "3"]),
                       try FrameSegment(index: 0, count: 4), "the explicit variable wins")
        for (text, env, needle) in [("5/5", [:], "within 0…4"), ("1/0", [:], "at least 1"), ("a/b", [:], "expected i/n"),
                                    ("auto/4", [:], "none of"), ("auto/4", ["SLURM_ARRAY_TASK_ID": "4"], "--array=0-3"),
                                    ("auto/4", ["JOB_COMPLETION_INDEX": "x"], "not a whole number")] as [(String, [String: String], String)] {
            XCTAssertThrowsError(try FrameSegment.parse(text, environment: env), text) {
                XCTAssertTrue("\($0)".contains(needle), "\(text): \($0)")
            }
        }
    }

    /// Two people crossing paths and a third appearing and leaving, tracked once over all frames and
    /// once per segment (a fresh tracker each): the merge gives the single run's ids exactly.
    func testMergedTrackIDsEqualTheSingleRunsAtEverySegmentCount() throws {
        let total = 30
        func pose(_ x: Double, _ y: Double) -> PersonPose {
            PersonPose(bbox: [x, y, 20, 40], score: 0.9, keypoints: (0..<17).map { k in [x + Double(k), y + Double(2 * k), 0.9] })
        }
        let frames: [FrameKeypoints] = (0..<total).map { t in
            var persons = [pose(Double(5 * t), 10), pose(Double(150 - 5 * t), 12)]
            if (8..<14).contains(t) { persons.append(pose(60, 80)) }
            if (20..<26).contains(t) { persons.insert(pose(10, 90), at: 0) }
            return FrameKeypoints(frame: t, time: Double(t) / 25, persons: persons)
        }
        func tracked(_ frames: ArraySlice<FrameKeypoints>) -> [FrameKeypoints] {
            let tracker = PoseTracker(method: .iou, threshold: 0.3)
            return frames.map { var f = $0; tracker.assign(&f.persons); return f }
        }
        let single = tracked(frames[...])
        XCTAssertEqual(Set(single.flatMap { $0.persons.compactMap(\.trackID) }).count, 4)
        let header = KeypointStreamHeader(schema: .posetrack18, video: .init(width: 200, height: 150, fps: 25, frames: total))
        for n in [1, 3, 7, 30] {
            let parts = try (0..<n).reversed().map { i -> SegmentMerge.Part in
                let r = try FrameSegment(index: i, count: n).range(frameCount: total)
                let segment = KeypointStreamHeader.Segment(index: i, count: n, start: r.lowerBound, end: r.upperBound, sourceFrames: total,
                                                           tracking: "iou", trackingThreshold: 0.3)
                var h = header
                h.video?.frames = r.count
                h.segment = segment
                return SegmentMerge.Part(path: "part\(i).jsonl", header: h, segment: segment, frames: tracked(frames[r]))
            }
            let merged = try SegmentMerge.merge(parts)
            XCTAssertEqual(merged.frames, single, "\(n) segments")
            XCTAssertEqual(merged.header, header)
        }
    }
}
