import Keypoints
import XCTest
@testable import Pipeline
import Video

/// The annotated video's renderer as `run --video` builds it from the pipeline's output section.
final class SkeletonPoseRendererTests: XCTestCase {
    private func person(wristX: Double) -> PersonPose {
        var k = Array(repeating: [0.0, 0.0, 0.0], count: 17)
        k[9] = [wristX, 50, 0.9]
        return PersonPose(trackID: 4, bbox: [0, 0, 0, 0], score: 0.9, keypoints: k)
    }

    func testTrailsFollowTheFramesItDraws() throws {
        var output = PipelineConfig.hrnetCOCO.output
        output.trails = 5
        output.drawBoxes = false
        let renderer = try SkeletonPoseRenderer(schema: .coco17, output: output)
        var last = VideoFrame(index: 0, time: 0, pts: 0, width: 160, height: 100)
        for i in 0..<4 {
            last = VideoFrame(index: i, time: 0, pts: Int64(i), width: 160, height: 100)
            renderer.draw([person(wristX: 20 + 30 * Double(i))], on: &last)
        }
        // The wrist went 20 → 50 → 80 → 110: the trail is drawn behind it (left-wrist green).
        XCTAssertGreaterThan(last.pixel(35, 50)[1], 0)
        XCTAssertGreaterThan(last.pixel(65, 50)[1], 0)
        // Without trails only the current disc is drawn.
        output.trails = 0
        let plain = try SkeletonPoseRenderer(schema: .coco17, output: output)
        var single = VideoFrame(index: 3, time: 0, pts: 3, width: 160, height: 100)
        for i in 0..<4 {
            single = VideoFrame(index: i, time: 0, pts: Int64(i), width: 160, height: 100)
            plain.draw([person(wristX: 20 + 30 * Double(i))], on: &single)
        }
        XCTAssertEqual(single.pixel(65, 50), [0, 0, 0])
    }

    func testMissingFontIsBadInputNamingIt() {
        var output = PipelineConfig.hrnetCOCO.output
        output.font = "/nonexistent/Label.ttf"
        XCTAssertThrowsError(try SkeletonPoseRenderer(schema: .coco17, output: output)) { e in
            XCTAssertEqual((e as? PipelineError)?.kind, .badInput)
            XCTAssertTrue("\(e)".contains("/nonexistent/Label.ttf"), "\(e)")
        }
        output.drawBoxes = false   // no labels, no font needed
        XCTAssertNoThrow(try SkeletonPoseRenderer(schema: .coco17, output: output))
    }
}
