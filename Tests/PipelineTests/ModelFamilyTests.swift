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
