import Foundation
import Keypoints
import XCTest

final class SmootherTests: XCTestCase {
    /// A stream of one track whose joint 0 follows `x(t)` (y = 2x), score 0.9; other joints fixed.
    func stream(frames: Int, track: Int = 1, x: (Int) -> Double) -> [FrameKeypoints] {
        (0..<frames).map { t in
            var kps = Array(repeating: [50.0, 60.0, 0.9], count: 17)
            kps[0] = [x(t), 2 * x(t), 0.9]
            return FrameKeypoints(frame: t, time: Double(t) / 30, persons: [
                PersonPose(trackID: track, bbox: [0, 0, 100, 200], bboxScore: 0.8, score: 0.9, keypoints: kps)])
        }
    }

    func run(_ smoother: KeypointSmoother, _ frames: [FrameKeypoints]) -> [FrameKeypoints] {
        var out: [FrameKeypoints] = []
        for f in frames { out += smoother.push(f) }
        return out + smoother.finish()
    }

    func testEveryMethodKeepsFramesPersonsAndConstantTracks() {
        let input = stream(frames: 20) { _ in 40 }
        for name in SmoothingMethod.names {
            let out = run(KeypointSmoother(method: .named(name)!), input)
            XCTAssertEqual(out, input, name)
        }
    }

    func testWindowedMethodsHoldHalfAWindowBack() {
        let smoother = KeypointSmoother(method: .savitzkyGolay(window: 7, polyorder: 2))
        let input = stream(frames: 10) { Double($0) }
        var released: [Int] = []
        for (i, f) in input.enumerated() {
            let out = smoother.push(f)
            released += out.map(\.frame)
            XCTAssertEqual(released.count, max(0, i + 1 - 3), "after pushing frame \(i)")
        }
        released += smoother.finish().map(\.frame)
        XCTAssertEqual(released, Array(0..<10))
        XCTAssertEqual(SmoothingMethod.oneEuroDefault.latency, 0)
    }

    func testSavitzkyGolayMatchesScipyCoefficientsAndKeepsQuadratics() {
        // scipy.signal.savgol_coeffs(5, 2) = [-3, 12, 17, 12, -3] / 35: an impulse at the centre of a
        // full window comes out as 17/35 of its height.
        let impulse = stream(frames: 9) { $0 == 4 ? 35 : 0 }
        let out = run(KeypointSmoother(method: .savitzkyGolay(window: 5, polyorder: 2)), impulse)
        XCTAssertEqual(out[4].persons[0].keypoints[0][0], 17, accuracy: 1e-9)
        XCTAssertEqual(out[3].persons[0].keypoints[0][0], 12, accuracy: 1e-9)
        XCTAssertEqual(out[2].persons[0].keypoints[0][0], -3, accuracy: 1e-9)
        // A quadratic trajectory is reproduced exactly, at the ends too (the fit is then one-sided).
        let quadratic = stream(frames: 30) { 0.5 * Double($0 * $0) - 3 * Double($0) + 7 }
        for (a, b) in zip(run(KeypointSmoother(method: .savitzkyGolayDefault), quadratic), quadratic) {
            XCTAssertEqual(a.persons[0].keypoints[0][0], b.persons[0].keypoints[0][0], accuracy: 1e-6)
            XCTAssertEqual(a.persons[0].keypoints[0][1], b.persons[0].keypoints[0][1], accuracy: 1e-6)
        }
    }

    func testEveryMethodReducesJitterOfAStillJoint() {
        // Deterministic pseudo-random noise in [-3, 3].
        var state: UInt64 = 12345
        let noise: [Double] = (0..<200).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) / Double(1 << 53) * 6 - 3
        }
        let input = stream(frames: 200) { 100 + noise[$0] }
        func jitter(_ frames: [FrameKeypoints]) -> Double {
            let xs = frames.map { $0.persons[0].keypoints[0][0] }
            return zip(xs.dropFirst(), xs).map { abs($0 - $1) }.reduce(0, +) / Double(xs.count - 1)
        }
        // mmpose's One-Euro defaults (beta 0.7) follow motion closely and smooth pixel noise less
        // than the windowed filters do.
        for (name, factor) in [("one_euro", 0.9), ("gaussian", 0.5), ("savitzky_golay", 0.5)] {
            let out = run(KeypointSmoother(method: .named(name)!), input)
            XCTAssertLessThan(jitter(out), jitter(input) * factor, name)
            XCTAssertFalse(out.contains { $0.persons[0].keypoints.joined().contains { !$0.isFinite } })
        }
    }

    func testLowScoreJointsPassThroughAndDoNotDragNeighbours() {
        var input = stream(frames: 15) { _ in 10 }
        // Frame 7's joint 0 jumps far away with a low score.
        input[7].persons[0].keypoints[0] = [500, 500, 0.1]
        for name in SmoothingMethod.names {
            let out = run(KeypointSmoother(method: .named(name)!, scoreThreshold: 0.3), input)
            XCTAssertEqual(out[7].persons[0].keypoints[0], [500, 500, 0.1], name)
            for t in [6, 8, 9] { XCTAssertEqual(out[t].persons[0].keypoints[0][0], 10, accuracy: 1e-9, "\(name) frame \(t)") }
        }
    }

    func testAReappearingTrackStartsFresh() {
        var input = stream(frames: 12) { $0 < 5 ? 0 : 100 }
        input[5].persons = []    // the track is lost for one frame, then comes back elsewhere
        for name in SmoothingMethod.names {
            let out = run(KeypointSmoother(method: .named(name)!), input)
            // Nothing of the old run (x = 0) leaks into the new one.
            for t in 6..<12 { XCTAssertEqual(out[t].persons[0].keypoints[0][0], 100, accuracy: 1e-9, "\(name) frame \(t)") }
            XCTAssertTrue(out[5].persons.isEmpty)
        }
    }

    func testOneEuroFollowsMmposeFormula() {
        // Hand-computed from mmpose's OneEuro (t_e = 1, dx0 = 0): frame 1 of 0 → 10 with
        // min_cutoff 1, beta 0, d_cutoff 1: alpha = 2π/(2π+1), x̂ = alpha·10.
        let input = stream(frames: 2) { $0 == 0 ? 0 : 10 }
        let out = run(KeypointSmoother(method: .oneEuro(minCutoff: 1, beta: 0, derivativeCutoff: 1)), input)
        let alpha = 2 * Double.pi / (2 * Double.pi + 1)
        XCTAssertEqual(out[1].persons[0].keypoints[0][0], alpha * 10, accuracy: 1e-12)
        XCTAssertEqual(out[0].persons[0].keypoints[0][0], 0)
    }

    func testBadParametersAreDescribed() {
        XCTAssertNotNil(SmoothingMethod.gaussian(window: 4, sigma: 1).problem)
        XCTAssertNotNil(SmoothingMethod.savitzkyGolay(window: 5, polyorder: 5).problem)
        XCTAssertNotNil(SmoothingMethod.oneEuro(minCutoff: 0, beta: 0.7, derivativeCutoff: 1).problem)
        XCTAssertNil(SmoothingMethod.named("nope"))
        for name in SmoothingMethod.names { XCTAssertNil(SmoothingMethod.named(name)!.problem); XCTAssertEqual(SmoothingMethod.named(name)!.name, name) }
    }
}
