import Checkpoints
import Foundation
import Models
import XCTest
@testable import Pipeline

/// The model-family registry as runs use it: every family's default pipeline exists, checkpoints get
/// their family's settings without a pipeline file, and a family rejects the other family's settings.
final class ModelFamilyTests: XCTestCase {
    static let root = PipelineFileTests.packageRoot

    func testEveryFamilyNamesAPresetAndItsShippedFile() {
        for family in ModelFamilies.all {
            XCTAssertNotNil(PipelineConfig.presets[family.defaultPipeline], family.id.rawValue)
            let file = Self.root.appendingPathComponent("Pipelines/\(family.defaultPipeline).yml").path
            XCTAssertTrue(FileManager.default.fileExists(atPath: file), file)
        }
    }

    /// One place answers "which model is this?" for pose and detector checkpoints alike, and each
    /// loader refuses the other kind naming what the file is.
    func testTheRegistryIdentifiesPoseAndDetectorCheckpoints() throws {
        let cases: [(String, String, String)] = [
            ("Tests/ModelsTests/Fixtures/tiny_posewarper.pth", "pose PoseWarper", "a PoseWarper pose model"),
            ("Tests/ModelsTests/Fixtures/tiny_topdown.pth", "pose TopDown", "an HRNet top-down pose model"),
            ("Tests/DetectorTests/Fixtures/yolox_megvii.pth", "detector YOLOX megvii", "a YOLOX person detector"),
            ("Tests/DetectorTests/Fixtures/yolox_mmdet.pth", "detector YOLOX mmdet", "a YOLOX person detector"),
            ("Tests/DetectorTests/Fixtures/rtmdet_person.pth", "detector RTMDet mmdet", "an RTMDet person detector"),
        ]
        for (file, want, title) in cases {
            let path = Self.root.appendingPathComponent(file).path
            let names = try Checkpoint.load(path).entries.map(\.name)
            let found: String
            switch ModelFamilies.identify(names) {
            case let .pose(family, _)?: found = "pose \(family.id.rawValue)"
            case let .detector(family, layout)?: found = "detector \(family.id.rawValue) \(layout.rawValue)"
            case nil: found = "nothing"
            }
            XCTAssertEqual(found, want, file)
            XCTAssertEqual(ModelFamilies.identify(names)?.title, title, file)
            if want.hasPrefix("pose") {
                XCTAssertThrowsError(try DetectorModel.load(weights: path), file) {
                    XCTAssertTrue("\($0)".contains("this is \(title) checkpoint, not a person detector"), "\($0)")
                }
            } else {
                XCTAssertThrowsError(try PoseModel.load(weights: path), file) {
                    XCTAssertTrue("\($0)".contains("this is \(title) checkpoint, not a pose model"), "\($0)")
                }
            }
        }
        XCTAssertNil(ModelFamilies.identify(["backbone.conv1.weight", "fc.weight"]))
    }

    func testCheckpointsRunWithTheirFamilysDefaultsAndRejectTheOthers() throws {
        let cases: [(String, ModelDescription.Family, PipelineConfig)] = [
            ("tiny_posewarper.pth", .poseWarper, .poseWarperPoseTrack18),
            ("tiny_posewarper_official2019_legacy.pth", .poseWarper, .poseWarperPoseTrack18),
            ("tiny_topdown.pth", .topDown, .hrnetCOCO),
        ]
        for (file, family, preset) in cases {
            let path = Self.root.appendingPathComponent("Tests/ModelsTests/Fixtures/" + file).path
            let config = try PoseJob.defaultConfig(forWeights: path)
            XCTAssertEqual(config.model.weights, path)
            XCTAssertEqual(config.temporal.frameOffsets, preset.temporal.frameOffsets, file)
            XCTAssertEqual(config.model.flipTest, preset.model.flipTest, file)
            XCTAssertEqual(config.model.schema, preset.model.schema, file)
            let model = try PoseModel.load(weights: path, options: config.temporal.poseWarperOptions)
            XCTAssertEqual(model.kind, family, file)
            XCTAssertNoThrow(try PoseJob(config: config, model: model), file)
            let other = family == .poseWarper ? PipelineConfig.hrnetCOCO : PipelineConfig.poseWarperPoseTrack18
            XCTAssertThrowsError(try PoseJob(config: other, model: model), file) {
                XCTAssertTrue("\($0)".contains("pipeline file"), "\($0)")
            }
        }
    }
}
