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

/// The standard layouts and their nominal cost, against the counts mmpose's own modules give.
final class StandardLayoutTests: XCTestCase {
    func testStandardLayoutsHaveMmposeKeyCounts() {
        // mmpose 0.x: W48 PoseWarper stage 2 has 2010 state-dict keys, W32 top-down 1754.
        XCTAssertEqual(ModelDescription.hrnet(widths: [48, 96, 192, 384], poseWarperNeck: (128, 20)).parameterShapes().count, 2010)
        XCTAssertEqual(ModelDescription.hrnet(widths: [32, 64, 128, 256]).parameterShapes().count, 1754)
    }

    func testInferenceRoundTripsTheStandardLayouts() throws {
        for d in [ModelDescription.hrnet(widths: [48, 96, 192, 384], poseWarperNeck: (128, 20)),
                  ModelDescription.hrnet(widths: [18, 36, 72, 144])] {
            XCTAssertEqual(try ModelDescription.infer(shapes: d.parameterShapes()), d)
        }
    }

    func testNominalPoseWarperCostMatchesTheIssueFigures() {
        // Issue 3: 5 × HRNet-W48 at 384×288 = 176.6 G MACs; neck 260.9 G, of which the 20
        // residual blocks are 199.5 G.
        let cost = ModelDescription.hrnet(widths: [48, 96, 192, 384], poseWarperNeck: (128, 20)).cost(height: 384, width: 288)
        XCTAssertEqual(Double(5 * cost.backbone) / 1e9, 176.6, accuracy: 0.1)
        XCTAssertEqual(Double(cost.neck) / 1e9, 260.9, accuracy: 0.1)
        XCTAssertEqual(Double(cost.neckResidualBlocks) / 1e9, 199.5, accuracy: 0.1)
        XCTAssertEqual(cost.total, 5 * cost.backbone + cost.neck)
    }
}
