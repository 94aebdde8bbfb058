import Foundation
import Models
import Tensors
import XCTest

/// Tiny random mmpose-layout checkpoints against the PyTorch reference (Tools/reference/posewarper_ref.py).
final class ParityTests: XCTestCase {
    func testTinyTopDownMatchesTorch() throws {
        let model = try PoseModel.load(weights: ModelFixtures.path("tiny_topdown.pth"))
        XCTAssertEqual(model.kind, .topDown)
        XCTAssertEqual(model.numJoints, 17)
        XCTAssertEqual(model.description.widths, [4, 8, 16, 32])
        XCTAssertEqual(model.defaultSchema?.name, "coco17")
        let x = try ModelFixtures.tensor("tiny_topdown_input")
        assertMatches(model.forward(x), try ModelFixtures.tensor("tiny_topdown_output"), bound: 1e-5, "tiny top-down")
        assertMatches(model.heatmaps(x), try ModelFixtures.tensor("tiny_topdown_output"), bound: 1e-5, "tiny top-down heatmaps")
    }

    func testTinyPoseWarperMatchesTorch() throws {
        let model = try PoseModel.load(weights: ModelFixtures.path("tiny_posewarper.pth"))
        XCTAssertEqual(model.kind, .poseWarper)
        XCTAssertEqual(model.description.neck?.channels, 4)
        XCTAssertEqual(model.description.neck?.blocks, 2)
        XCTAssertEqual(model.description.neck?.deformGroups, 17)
        XCTAssertEqual(model.defaultSchema?.name, "posetrack18")
        let x = try ModelFixtures.tensor("tiny_posewarper_input")
        let expected = try ModelFixtures.tensor("tiny_posewarper_output")
        assertMatches(model.forward(x), expected, bound: 1e-5, "tiny PoseWarper")
        // Twice: the second run uses the cached zero-difference offsets.
        assertMatches(model.forward(x), expected, bound: 1e-5, "tiny PoseWarper (cached i=0 offsets)")
    }

    func testPerFrameFeaturesThenAggregateEqualsForward() throws {
        let model = try PoseModel.load(weights: ModelFixtures.path("tiny_posewarper.pth"))
        let x = try ModelFixtures.tensor("tiny_posewarper_input")
        let n = x.shape[0] / 5
        let per = x.count / x.shape[0]
        let frames = (0..<5).map { i in
            model.features(Tensor(shape: [n] + Array(x.shape.dropFirst()), storage: Array(x.storage[i * n * per..<(i + 1) * n * per])))
        }
        assertMatches(frames[0], try ModelFixtures.tensor("tiny_posewarper_features"), bound: 1e-5, "tiny backbone features")
        assertMatches(model.aggregate(frames), try ModelFixtures.tensor("tiny_posewarper_output"), bound: 1e-5, "features + aggregate")
    }

    func testTinyPoseWarperWithOtherDilationsAndAZeroWeightFrame() throws {
        let options = try ModelFixtures.json("tiny_posewarper_options.json")
        let weights = (options["frameWeights"] as! [Double]).map(Float.init)
        let dilations = options["dilations"] as! [Int]
        XCTAssertTrue(weights.contains(0))
        let model = try PoseModel.load(weights: ModelFixtures.path("tiny_posewarper.pth"),
                                       options: PoseWarperOptions(dilations: dilations, frameWeights: weights))
        let x = try ModelFixtures.tensor("tiny_posewarper_input")
        assertMatches(model.forward(x), try ModelFixtures.tensor("tiny_posewarper_output_options"), bound: 1e-5,
                      "tiny PoseWarper, dilations \(dilations), weights \(weights)")
    }

    func testOfficial2019NamesInLegacyFormatGiveTheSameNetwork() throws {
        let model = try PoseModel.load(weights: ModelFixtures.path("tiny_posewarper_official2019_legacy.pth"))
        XCTAssertEqual(model.kind, .poseWarper)
        let x = try ModelFixtures.tensor("tiny_posewarper_input")
        assertMatches(model.forward(x), try ModelFixtures.tensor("tiny_posewarper_output"), bound: 1e-5, "official-2019 names, legacy format")
    }

    func testOfficialNameMapping() {
        XCTAssertEqual(OfficialNames.mmposeName("offsets3.weight", poseWarper: true), "neck.offset_layers.2.weight")
        XCTAssertEqual(OfficialNames.mmposeName("deform_conv5.weight", poseWarper: true), "neck.deform_conv_layers.4.weight")
        XCTAssertEqual(OfficialNames.mmposeName("final_layer.bias", poseWarper: true), "neck.trans_layer.bias")
        XCTAssertEqual(OfficialNames.mmposeName("final_layer.bias", poseWarper: false), "keypoint_head.final_layer.bias")
        XCTAssertEqual(OfficialNames.mmposeName("offset_feats.0.downsample.0.weight", poseWarper: true),
                       "neck.offset_feats.0.downsample.0.weight")
        XCTAssertEqual(OfficialNames.mmposeName("stage2.0.fuse_layers.0.1.0.weight", poseWarper: true),
                       "backbone.stage2.0.fuse_layers.0.1.0.weight")
        XCTAssertFalse(OfficialNames.isOfficial2019(["backbone.conv1.weight"]))
        XCTAssertTrue(OfficialNames.isOfficial2019(["conv1.weight", "final_layer.weight"]))
    }
}
