import Foundation
import Keypoints
import XCTest
@testable import Pipeline

final class TrackingAndWindowTests: XCTestCase {
    func person(_ x: Double, _ y: Double = 0, near: Bool = false) -> PersonPose {
        // The nearer person is larger and lower in the image, as in a real scene.
        let (w, h, step) = near ? (50.0, 120.0, 6.0) : (40.0, 100.0, 5.0)
        return PersonPose(bbox: [x, y, w, h], score: 1,
                          keypoints: (0..<17).map { [x + w / 2 + Double($0), y + step * Double($0), 0.9] })
    }

    /// Two people walking toward each other and past (one nearer the camera): their boxes overlap
    /// heavily mid-way, but each overlaps its own previous position more, so ids follow the people.
    func testIDsStableAcrossCrossingBoxes() {
        for method in [PipelineConfig.TrackingMethod.iou, .oks] {
            let tracker = PoseTracker(method: method, threshold: 0.3)
            var firstIDs: (Int, Int)?
            for t in 0..<30 {
                let a = Double(t) * 4, b = 116 - Double(t) * 4   // cross around t = 14
                // Detector order swaps half-way, as real detectors' order does.
                var persons = t < 15 ? [person(a), person(b, 10, near: true)] : [person(b, 10, near: true), person(a)]
                tracker.assign(&persons)
                let idA = persons.first { $0.bbox[0] == a }!.trackID!, idB = persons.first { $0.bbox[0] == b }!.trackID!
                if let (fa, fb) = firstIDs {
                    XCTAssertEqual(idA, fa, "\(method) frame \(t)")
                    XCTAssertEqual(idB, fb, "\(method) frame \(t)")
                } else { firstIDs = (idA, idB) }
            }
            XCTAssertNotEqual(firstIDs!.0, firstIDs!.1)
        }
    }

    func testNewPersonsGetNewIDsBelowTheLimit() {
        let tracker = PoseTracker(method: .iou, threshold: 0.3)
        var ids = Set<Int>()
        for t in 0..<(PoseTracker.idLimit + 5) {
            // A new person every frame, far from the last one: every id is new until they wrap.
            var persons = [person(Double((t % 2) * 1000))]
            tracker.assign(&persons)
            XCTAssertLessThan(persons[0].trackID!, PoseTracker.idLimit)
            ids.insert(persons[0].trackID!)
        }
        XCTAssertEqual(ids.count, PoseTracker.idLimit)
        let none = PoseTracker(method: .none, threshold: 0.3)
        var persons = [person(0)]
        none.assign(&persons)
        XCTAssertNil(persons[0].trackID)
    }

    func testWindowClipsAtBothEndsLikeMmpose() {
        XCTAssertEqual(TemporalWindow<Int>.supportIndices(of: 0, offsets: [0, -2, -1, 1, 2], first: 0, last: 5), [0, 0, 0, 1, 2])
        XCTAssertEqual(TemporalWindow<Int>.supportIndices(of: 1, offsets: [0, -2, -1, 1, 2], first: 0, last: 5), [1, 0, 0, 2, 3])
        XCTAssertEqual(TemporalWindow<Int>.supportIndices(of: 5, offsets: [0, -2, -1, 1, 2], first: 0, last: 5), [5, 3, 4, 5, 5])
    }

    /// A live source: windows come out two frames late, in order, clipped only once the end is known,
    /// and no more than 5 frames are ever held.
    func testWindowReleaseIsDelayedByLookAheadAndHoldsFewFrames() {
        let window = TemporalWindow<String>(offsets: [0, -2, -1, 1, 2])
        var released: [(Int, [Int])] = []
        for i in 0..<6 {
            let ready = window.add("f\(i)", index: i)
            XCTAssertEqual(ready.map(\.index), i >= 2 ? [i - 2] : [], "after frame \(i)")
            released += ready.map { ($0.index, $0.sourceIndices) }
            XCTAssertLessThanOrEqual(window.heldCount, 5)
            for w in ready { XCTAssertEqual(w.frames, w.sourceIndices.map { "f\($0)" }) }
        }
        released += window.finish().map { ($0.index, $0.sourceIndices) }
        XCTAssertEqual(released.map(\.0), Array(0..<6))
        XCTAssertEqual(released[0].1, [0, 0, 0, 1, 2])
        XCTAssertEqual(released[4].1, [4, 2, 3, 5, 5])
        XCTAssertEqual(released[5].1, [5, 3, 4, 5, 5])
        XCTAssertEqual(window.heldCount, 0)
    }

    func testSingleFrameWindowAndStartOffset() {
        let window = TemporalWindow<Int>(offsets: [0])
        XCTAssertEqual(window.add(7, index: 7).map(\.sourceIndices), [[7]])
        let pw = TemporalWindow<Int>(offsets: [0, -2, -1, 1, 2])
        _ = pw.add(10, index: 10)
        let rest = pw.finish()
        XCTAssertEqual(rest.map(\.sourceIndices), [[10, 10, 10, 10, 10]])
    }

    func testBoundedQueueBlocksProducerAndDrainsAfterClose() {
        let q = BoundedQueue<Int>(capacity: 2)
        let pushed = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            q.push(1); q.push(2)
            q.push(3)
            pushed.signal()
            q.close()
        }
        XCTAssertEqual(pushed.wait(timeout: .now() + 0.2), .timedOut, "the producer must wait while the queue is full")
        XCTAssertEqual(q.pop(), 1)
        pushed.wait()
        XCTAssertEqual(q.pop(), 2)
        XCTAssertEqual(q.pop(), 3)
        XCTAssertNil(q.pop())
    }
}
