import Checkpoints
import Foundation
import Models
import XCTest

final class DescriptionTests: XCTestCase {
    private func shapes(_ name: String) throws -> [String: [Int]] {
        let checkpoint = try Checkpoint.load(ModelFixtures.path(name))
        return Dictionary(uniqueKeysWithValues: checkpoint.entries.map { ($0.name, $0.shape) })
    }

    func testTinyTopDownDescription() throws {
        let d = try ModelDescription.infer(shapes: try shapes("tiny_topdown.pth"))
        XCTAssertEqual(d.family, .topDown)
        XCTAssertEqual(d.stemChannels, 64)
        XCTAssertEqual(d.stages.map(\.modules), [1, 1, 2, 1])
        XCTAssertEqual(d.stages.map(\.branches), [1, 2, 3, 4])
        XCTAssertEqual(d.stages[0].block, .bottleneck)
        XCTAssertEqual(d.stages[0].channels, [8])
        XCTAssertEqual(d.stages[3].block, .basic)
        XCTAssertEqual(d.stages[3].blocks, [1, 1, 1, 1])
        XCTAssertFalse(d.stages[3].multiscaleOutput)
        XCTAssertTrue(d.stages[2].multiscaleOutput)
        XCTAssertEqual(d.widths, [4, 8, 16, 32])
        XCTAssertEqual(d.joints, 17)
        XCTAssertNil(d.neck)
        let json = try JSONSerialization.data(withJSONObject: d.summary)
        let back = try JSONSerialization.jsonObject(with: json) as! [String: Any]
        XCTAssertEqual(back["family"] as? String, "TopDown")
        XCTAssertEqual(back["widths"] as? [Int], [4, 8, 16, 32])
    }

    func testTinyPoseWarperDescription() throws {
        let d = try ModelDescription.infer(shapes: try shapes("tiny_posewarper.pth"))
        XCTAssertEqual(d.family, .poseWarper)
        let neck = try XCTUnwrap(d.neck)
        XCTAssertEqual([neck.channels, neck.blocks, neck.transKernel, neck.offsetLayers, neck.deformGroups], [4, 2, 1, 5, 17])
        XCTAssertEqual(d.summary["neck"].flatMap { $0 as? [String: Any] }?["blocks"] as? Int, 2)
    }
}
