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

    /// Segments over a list: every frame of every input in exactly one segment's share, each
    /// segment's work within one frame of the average, and one input alone split as before.
    func testSharesSplitTheWholeListsFramesEvenly() throws {
        for counts in [[10, 3, 0, 7], [1], [4, 4], [0, 9, 1, 1, 1]] {
            let total = counts.reduce(0, +)
            for n in 1...min(total, 6) {
                var covered = counts.map { [Int](repeating: 0, count: $0) }
                for i in 0..<n {
                    let shares = try FrameSegment(index: i, count: n).shares(of: counts)
                    let work = shares.map(\.part.frames.count).reduce(0, +)
                    XCTAssertLessThanOrEqual(abs(work * n - total), n, "\(counts) in \(n): segment \(i) has \(work) frames")
                    for (input, part) in shares {
                        XCTAssertEqual(part.inputFrames, counts[input])
                        for f in part.frames { covered[input][f] += 1 }
                    }
                }
                XCTAssertEqual(covered, counts.map { [Int](repeating: 1, count: $0) }, "\(counts) in \(n) segments")
            }
        }
        let alone = try FrameSegment(index: 2, count: 3).shares(of: [100])
        XCTAssertEqual(alone.map(\.part.frames), [try FrameSegment(index: 2, count: 3).range(frameCount: 100)])
        // Inputs [5, 0 (unreadable), 7] in 3 segments (0..<4, 4..<8, 8..<12): the empty input at offset 5
        // is reported by segment 1 alone; an input at the list's end by the last segment.
        XCTAssertEqual(try (0..<3).map { try FrameSegment(index: $0, count: 3).owns(offset: 5, total: 12) }, [false, true, false])
        XCTAssertEqual(try (0..<3).map { try FrameSegment(index: $0, count: 3).owns(offset: 12, total: 12) }, [false, false, true])
    }

    /// Parts are ordered by their frames; frames in no part, in two, or parts of another input or run
    /// are refused naming the files and frames.
    func testMergeRefusesGapsOverlapsAndForeignParts() throws {
        func part(_ path: String, _ i: Int, _ n: Int, _ range: Range<Int>, total: Int = 10, input: String = "a.mp4") -> SegmentMerge.Part {
            let segment = KeypointStreamHeader.Segment(index: i, count: n, start: range.lowerBound, end: range.upperBound, sourceFrames: total,
                                                       tracking: "iou", trackingThreshold: 0.3, input: input)
            var header = KeypointStreamHeader(schema: .posetrack18, video: .init(width: 64, height: 48, fps: 25, frames: range.count))
            header.segment = segment
            return SegmentMerge.Part(path: path, header: header, segment: segment,
                                     frames: range.map { FrameKeypoints(frame: $0, time: Double($0) / 25, persons: []) })
        }
        func refused(_ parts: [SegmentMerge.Part], _ needle: String, line: UInt = #line) {
            XCTAssertThrowsError(try SegmentMerge.merge(parts), line: line) { XCTAssertTrue("\($0)".contains(needle), "\($0)", line: line) }
        }
        // Segments of a list: an input's parts need not be all n segments, only cover its frames.
        let merged = try SegmentMerge.merge([part("b", 2, 4, 6..<10), part("a", 1, 4, 0..<6)])
        XCTAssertEqual(merged.frames.map(\.frame), Array(0..<10))
        XCTAssertEqual(merged.parts.map(\.path), ["a", "b"])
        XCTAssertNil(merged.header.segment)
        refused([part("a", 0, 3, 0..<3), part("c", 2, 3, 6..<10)], "frames 3..<6 of 10 are in no part given (between a (segment 0/3, frames 0..<3) and c")
        refused([part("b", 1, 3, 3..<6), part("c", 2, 3, 6..<10)], "frames 0..<3 of 10 are in no part given")
        refused([part("a", 0, 3, 0..<3), part("b", 1, 3, 3..<6)], "frames 6..<10 of 10 are in no part given")
        refused([part("a", 0, 2, 0..<5), part("b", 1, 2, 4..<10)], "overlap: frames 4..<5 would be written twice")
        refused([part("a", 0, 2, 0..<5), part("a2", 0, 2, 0..<5), part("b", 1, 2, 5..<10)], "are both segment 0/2")
        refused([part("a", 0, 2, 0..<5), part("b", 1, 2, 5..<10, input: "other.mp4")], "b is a part of other.mp4, a of a.mp4")
        refused([part("a", 0, 2, 0..<5), part("b", 1, 2, 5..<11, total: 11)], "the input's frame count (11) differs")
        XCTAssertEqual(SegmentMerge.byInput([part("a", 0, 2, 0..<5), part("x", 0, 2, 0..<5, input: "x.mp4"), part("b", 1, 2, 5..<10)])
            .map { $0.map(\.path) }, [["a", "b"], ["x"]])
    }

    /// The header names a part's other outputs relative to the stream's folder, so the parts can be
    /// moved together; merge finds them from wherever it runs.
    func testCompanionPathsAreRelativeToTheStream() {
        let cwd = FileManager.default.currentDirectoryPath
        XCTAssertEqual(SegmentFiles.companion("out/a-1.json", ofStream: "out/a-1.jsonl"), "a-1.json")
        XCTAssertEqual(SegmentFiles.companion("videos/a-1.mp4", ofStream: "out/parts/a-1.jsonl"), "../../videos/a-1.mp4")
        XCTAssertEqual(SegmentFiles.companion(cwd + "/out/a.mp4", ofStream: "out/a.jsonl"), "a.mp4")
        XCTAssertEqual(SegmentFiles.companion("out/a.mp4", ofStream: "-"), cwd + "/out/a.mp4")
        XCTAssertEqual(SegmentFiles.resolve("../../videos/a-1.mp4", ofStream: "/data/out/parts/a-1.jsonl"), "/data/out/parts/../../videos/a-1.mp4")
        XCTAssertEqual(SegmentFiles.resolve("a-1.json", ofStream: "a-1.jsonl"), "a-1.json")
        XCTAssertEqual(SegmentFiles.resolve("/abs/a.mp4", ofStream: "out/a.jsonl"), "/abs/a.mp4")
    }
}
