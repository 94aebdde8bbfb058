import Foundation
import Models
import Tensors
import XCTest

/// Checkpoints that do not fit the inferred layout fail with ONE error naming the file and listing
/// every offending key.
final class LoadErrorTests: XCTestCase {
    private func loadError(_ name: String, options: PoseWarperOptions = .init()) -> String {
        do {
            _ = try PoseModel.load(weights: ModelFixtures.path(name), options: options)
            XCTFail("\(name) loaded")
            return ""
        } catch {
            let text = "\(error)"
            XCTAssertTrue(text.contains(name), "error does not name the file: \(text)")
            return text
        }
    }

    func testMissingKeysAreListed() {
        let text = loadError("broken_missing.pth")
        XCTAssertTrue(text.contains("missing keys: backbone.stage3.0.fuse_layers.2.0.1.0.weight, keypoint_head.final_layer.bias"), text)
        XCTAssertFalse(text.contains("unexpected"), text)
    }

    func testMisshapedKeyIsListedWithBothShapes() {
        let text = loadError("broken_misshaped.pth")
        XCTAssertTrue(text.contains("mis-shaped keys: backbone.stage2.0.branches.1.0.conv2.weight [4, 4, 1, 1] (expected [4, 4, 3, 3])"), text)
    }

    func testUnexpectedKeysAreListed() {
        let text = loadError("broken_unexpected.pth")
        XCTAssertTrue(text.contains("unexpected keys: backbone.stage2.0.fuse_layers.0.1.2.weight, keypoint_head.deconv_layers.0.weight"), text)
        XCTAssertFalse(text.contains("missing"), text)
    }

    func testDilationCountMustMatchTheCheckpoint() {
        let text = loadError("tiny_posewarper.pth", options: PoseWarperOptions(dilations: [3, 6, 12]))
        XCTAssertTrue(text.contains("5 offset layers but 3 dilations"), text)
    }

    func testInconsistentFrameOptionsAreRejected() {
        let text = loadError("tiny_posewarper.pth", options: PoseWarperOptions(frameWeights: [0.5, 0.5]))
        XCTAssertTrue(text.contains("2 frame weights for 5 frame offsets"), text)
    }

    func testNonModelCheckpointIsUnrecognised() throws {
        let shapes = ["backbone.conv1.weight": [64, 3, 7, 7], "backbone.bn1.weight": [64]]
        XCTAssertThrowsError(try ModelDescription.infer(shapes: shapes)) { error in
            XCTAssertTrue("\(error)".contains("unrecognised model layout"), "\(error)")
        }
    }
}
