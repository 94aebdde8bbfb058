import Foundation
import XCTest

/// `propagate` on real footage: the PoseTrack18 clip of ../shared (a football match, 1280×720) with
/// the hand-written labels of Samples/posetrack-clip (one player labelled in frames 0 and 4).
final class RealClipPropagationTests: XCTestCase {
    func testHandLabelledRealClipIsFilledByEveryMethod() throws {
        let video = Fixtures.realClip + "/000001_mpiinew_test.mp4"
        guard FileManager.default.fileExists(atPath: video) else { throw XCTSkip("../shared/data/posetrack18-clip is absent") }
        let root = Fixtures.packageRoot.path
        let labels = root + "/Samples/posetrack-clip/labels-every-4th.json"
        let labelled = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: labels))) as! [String: Any]
        let byFrame = Dictionary(uniqueKeysWithValues: (labelled["annotations"] as! [[String: Any]]).map {
            (($0["image_id"] as! NSNumber).intValue, ($0["keypoints"] as! [NSNumber]).map(\.doubleValue))
        })
        for method in ["copy", "interpolate", "warp"] {
            let out = Fixtures.scratch() + "/dense-\(method).json"
            let run = try CLITests.run(["propagate", video, "--labels", labels, "--out", out, "--method", method,
                                        "--pipeline", root + "/Models/posewarper-hrnet-w16-synth-128x96.yml", "--quiet"])
            XCTAssertEqual(run.code, 0, run.stderr)
            let dense = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out))) as! [String: Any]
            XCTAssertEqual((dense["images"] as! [Any]).count, 5, "\(method): every frame present")
            var frames: [Int: [Double]] = [:]
            for a in dense["annotations"] as! [[String: Any]] {
                XCTAssertEqual((a["track_id"] as! NSNumber).intValue, 0)
                frames[(a["image_id"] as! NSNumber).intValue] = (a["keypoints"] as! [NSNumber]).map(\.doubleValue)
            }
            XCTAssertEqual(Set(frames.keys), [0, 1, 2, 3, 4], "\(method): the player in every frame")
            XCTAssertEqual(frames[0], byFrame[0], "\(method): labelled frames keep their labels")
            XCTAssertEqual(frames[4], byFrame[4])
            // Propagated noses stay on the player: between the two labels' x (470 → 408), near y 300.
            for t in 1...3 {
                let nose = frames[t]!
                XCTAssertFalse(nose.contains { $0.isNaN })
                XCTAssert((390...490).contains(nose[0]) && (280...330).contains(nose[1]), "\(method) frame \(t): nose at \(nose[0]), \(nose[1])")
            }
        }
    }
}
