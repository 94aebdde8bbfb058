import Foundation
import XCTest

/// The models we ship (Models/) still know something: run as `make demo` runs them on the bundled
/// held-out clip of the synthetic world, scored by `posewarper evaluate` against its ground truth.
/// The bounds sit well below what the shipped checkpoints score (PCK@0.2 ≈ 0.90, PCK@0.1 ≈ 0.70
/// when measured) and far above a broken model (random weights score ≈ 0.1).
final class ShippedModelTests: XCTestCase {
    func pck(pipeline: String) throws -> (pck02: Double, pck01: Double) {
        let root = Fixtures.packageRoot.path
        let out = Fixtures.scratch() + "/k.jsonl"
        let run = try CLITests.run(["run", root + "/Samples/synth-demo.mp4", "--pipeline", root + "/Models/" + pipeline,
                                    "--boxes", root + "/Samples/synth-demo.boxes.json", "--keypoints", out, "--quiet"])
        XCTAssertEqual(run.code, 0, run.stderr)
        let eval = try CLITests.run(["evaluate", "--gt", root + "/Samples/synth-demo.gt.json", "--pred", out, "--pck-only", "--json"])
        XCTAssertEqual(eval.code, 0, eval.stderr)
        let json = try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as! [String: Any]
        let pck = json["pck"] as! [String: Any]
        return (pck["PCK@0.2"] as! Double, pck["PCK@0.1"] as! Double)
    }

    func testShippedPoseWarperFindsTheFiguresOfTheHeldOutClip() throws {
        let (p02, p01) = try pck(pipeline: "posewarper-hrnet-w16-synth-128x96.yml")
        XCTAssertGreaterThan(p02, 0.8)
        XCTAssertGreaterThan(p01, 0.55)
    }

    func testShippedSingleFrameModelFindsTheFiguresOfTheHeldOutClip() throws {
        let (p02, p01) = try pck(pipeline: "hrnet-w16-synth-128x96.yml")
        XCTAssertGreaterThan(p02, 0.8)
        XCTAssertGreaterThan(p01, 0.55)
    }
}
