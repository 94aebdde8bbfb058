import Foundation
import Pipeline
import Tensors
import Video
import XCTest

/// The persons of a window go through the backbone in batches, with the same bits as one crop at a
/// time: the shipped PoseWarper (widths 16–128, so Winograd and the batched GEMM both run) over
/// frames with three moving persons.
final class PersonBatchTests: XCTestCase {
    func testBatchedPersonsGiveTheSameHeatmapsAsOneCropPerCall() throws {
        let config = try PipelineFile.load(Fixtures.packageRoot.appendingPathComponent("Models/posewarper-hrnet-w16-synth-128x96.yml").path)
        let model = try PoseJob.loadModel(config)
        let network = PoseModelNetwork(model: model, config: config)
        let crops = TopDownCropStage(model: config.model, padding: config.persons.bboxPadding)
        XCTAssertEqual(PoseEstimationStage.defaultBatch(height: crops.inputHeight, width: crops.inputWidth), 16)
        let (width, height) = (160, 120)
        var state: UInt64 = 5
        let frames: [VideoFrame] = (0..<7).map { i in
            VideoFrame(index: i, time: Double(i) / 25, pts: Int64(i), width: width, height: height,
                       rgb: (0..<(width * height * 3)).map { _ in
                           state = state &* 6364136223846793005 &+ 1442695040888963407
                           return UInt8(truncatingIfNeeded: state >> 56)
                       })
        }
        func heatmaps(maxBatch: Int) throws -> [Tensor] {
            let stage = PoseEstimationStage(crops: crops, network: network, frameOffsets: config.temporal.frameOffsets,
                                            maxBatch: maxBatch)
            var out: [Tensor] = []
            for (i, frame) in frames.enumerated() {
                var f = PipelineFrame(frame: frame)
                for p in 0..<3 {
                    let x = Double(10 + 40 * p + 2 * i), y = Double(8 + i), h = Double(90 - 3 * p)
                    f.boxes.append(PersonBox(x: x, y: y, width: 40, height: h))
                }
                out += try stage.process(f).compactMap(\.heatmaps)
            }
            out += try stage.flush().compactMap(\.heatmaps)
            return out
        }
        let one = try heatmaps(maxBatch: 1), batched = try heatmaps(maxBatch: 16)
        XCTAssertEqual(one.count, frames.count)
        XCTAssertEqual(batched.count, frames.count)
        for (i, (a, b)) in zip(one, batched).enumerated() {
            XCTAssertEqual(a.shape, [3, 17, 32, 24], "frame \(i)")
            XCTAssertFalse(a.storage.contains { !$0.isFinite })
            XCTAssertEqual(a.storage, b.storage, "frame \(i)")
        }
    }
}
