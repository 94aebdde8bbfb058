import Checkpoints
import Foundation
@testable import Models
import Tensors
import XCTest

/// Wrong files are refused with an error that names the file and says what it is or what is wrong.
final class DetectorErrorTests: XCTestCase {
    private let poseFixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../ModelsTests/Fixtures/tiny_topdown.pth").standardized.path

    func testPoseCheckpointAsDetectorIsRefusedByName() throws {
        XCTAssertThrowsError(try DetectorModel.load(weights: poseFixture)) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains(poseFixture), message)
            XCTAssertTrue(message.contains("HRNet top-down pose model") && message.contains("not a person detector"), message)
        }
    }

    func testDetectorCheckpointAsPoseModelIsRefusedByName() throws {
        for (file, family) in [("yolox_megvii.pth", "YOLOX"), ("rtmdet_person.pth", "RTMDet")] {
            let path = DetectorFixtures.path(file)
            XCTAssertThrowsError(try PoseModel.load(weights: path)) { error in
                let message = "\(error)"
                XCTAssertTrue(message.contains(path) && message.contains("\(family) person detector checkpoint, not a pose model"), message)
            }
        }
    }

    func testMissingMisshapedAndUnexpectedKeysAreListed() throws {
        let checkpoint = try Checkpoint.load(DetectorFixtures.path("rtmdet_person.pth"))
        var shapes: [String: [Int]] = [:]
        for e in checkpoint.entries { shapes[e.name] = e.shape }
        shapes["bbox_head.rtm_reg.2.bias"] = nil
        shapes["neck.out_convs.1.conv.weight"] = [4, 16, 1, 1]
        shapes["bbox_head.extra.weight"] = [3]
        XCTAssertThrowsError(try DetectorModel(shapes: shapes, file: "x.pth", read: { Tensor(shape: shapes[$0]!) })) { error in
            let message = "\(error)"
            XCTAssertTrue(message.hasPrefix("x.pth: does not match the RTMDet"), message)
            XCTAssertTrue(message.contains("missing keys: bbox_head.rtm_reg.2.bias"), message)
            XCTAssertTrue(message.contains("mis-shaped keys: neck.out_convs.1.conv.weight [4, 16, 1, 1] (expected [32, 64, 3, 3])"), message)
            XCTAssertTrue(message.contains("unexpected keys: bbox_head.extra.weight"), message)
        }
    }

    func testMMDetEMABuffersAreAccepted() throws {
        let checkpoint = try Checkpoint.load(DetectorFixtures.path("yolox_mmdet.pth"))
        var shapes: [String: [Int]] = [:]
        for e in checkpoint.entries { shapes[e.name] = e.shape }
        for e in checkpoint.entries { shapes["ema_" + e.name.replacingOccurrences(of: ".", with: "_")] = e.shape }
        XCTAssertNoThrow(try DetectorModel(shapes: shapes, file: "ema.pth", read: { Tensor(shape: shapes[$0]!) }))
    }

    func testMegviiNamesAreReportedInMegviiSpelling() throws {
        let checkpoint = try Checkpoint.load(DetectorFixtures.path("yolox_megvii.pth"))
        var shapes: [String: [Int]] = [:]
        for e in checkpoint.entries { shapes[e.name] = e.shape }
        shapes["backbone.C3_p4.conv3.bn.running_var"] = nil
        XCTAssertThrowsError(try DetectorModel(shapes: shapes, file: "m.pth", read: { Tensor(shape: shapes[$0]!) })) { error in
            XCTAssertTrue("\(error)".contains("missing keys: backbone.C3_p4.conv3.bn.running_var"), "\(error)")
        }
    }

    func testNameMapping() {
        XCTAssertEqual(DetectorNames.megvii("backbone.stage1.1.blocks.0.conv2.depthwise_conv.conv.weight"),
                       "backbone.backbone.dark2.1.m.0.conv2.dconv.conv.weight")
        XCTAssertEqual(DetectorNames.megvii("backbone.stage4.2.main_conv.bn.bias"), "backbone.backbone.dark5.2.conv1.bn.bias")
        XCTAssertEqual(DetectorNames.megvii("neck.out_convs.2.conv.weight"), "head.stems.2.conv.weight")
        XCTAssertEqual(DetectorNames.megvii("neck.bottom_up_blocks.1.final_conv.conv.weight"), "backbone.C3_n4.conv3.conv.weight")
        XCTAssertEqual(DetectorNames.megvii("bbox_head.multi_level_conv_obj.0.bias"), "head.obj_preds.0.bias")
    }
}
