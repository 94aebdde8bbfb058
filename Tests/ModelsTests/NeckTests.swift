import Engine
import Foundation
import Models
import Tensors
import XCTest

/// The PoseWarper neck's parts and their composition: the batched aggregation gives exactly the
/// bits of warping one support frame at a time.
final class NeckTests: XCTestCase {
    private func random(_ shape: [Int], seed: UInt64) -> Tensor {
        var state = seed
        return Tensor(shape: shape, storage: (0..<shape.reduce(1, *)).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(state >> 40) / Float(1 << 23) - 1
        })
    }

    /// Σ_i weight_i · warp(heat_i, offsets(heat_0, heat_i)), one frame at a time, frame 0's offsets
    /// from one sample (as the neck caches them).
    private func oneFrameAtATime(_ neck: PoseWarperNeckLayer, _ features: [Tensor]) -> Tensor {
        let heats = features.map { neck.heatmaps($0) }
        let p = heats[0].shape[0]
        var output = Tensor(shape: heats[0].shape, repeating: 0)
        for (i, heat) in heats.enumerated() where neck.frameWeights[i] != 0 {
            let offsets: [Tensor]
            if i == 0 {
                let one = sliceBatch(heats[0], start: 0, count: 1)
                offsets = neck.offsets(reference: one, support: one).map { repeatBatch($0, p) }
            } else {
                offsets = neck.offsets(reference: heats[0], support: heat)
            }
            let warped = neck.warp(heat, offsets: offsets)
            output.withUnsafeMutableBufferPointer { o in
                for k in 0..<o.count { o[k] += warped.storage[k] * neck.frameWeights[i] }
            }
        }
        return output
    }

    func testBatchedAggregationEqualsOneFrameAtATimeBitForBit() throws {
        // 128 offset channels on 16×12 heatmaps: the engine would pick another convolution algorithm
        // for a batch of 4 frames than for one, so this also pins the per-call algorithm choice.
        let description = ModelDescription.hrnet(widths: [4, 8, 16, 32], poseWarperNeck: (channels: 128, blocks: 2))
        for weights: [Float] in [[0.3, 0.1, 0.25, 0.25, 0.1], [0.3, 0, 0.25, 0.25, 0.2], [0, 0.5, 0, 0, 0.5]] {
            let model = try PoseModel.random(description, options: PoseWarperOptions(frameWeights: weights))
            let neck = try XCTUnwrap(model.neck)
            for persons in [1, 2] {
                let features = (0..<5).map { random([persons, 4, 16, 12], seed: UInt64(10 * persons + $0)) }
                let batched = model.aggregate(features)
                let expected = oneFrameAtATime(neck, features)
                XCTAssertEqual(batched.shape, [persons, 17, 16, 12])
                XCTAssertFalse(batched.storage.contains { !$0.isFinite })
                XCTAssertTrue(batched.storage == expected.storage, "weights \(weights), \(persons) persons: batched neck differs")
            }
        }
    }

    func testWarpWithZeroWeightsIsZeroAndOffsetsHaveOneTensorPerDilation() throws {
        let model = try PoseModel.random(.hrnet(widths: [4, 8, 16, 32], poseWarperNeck: (channels: 8, blocks: 1)),
                                         options: PoseWarperOptions(dilations: [1, 2, 3, 4, 5]))
        let neck = try XCTUnwrap(model.neck)
        let a = random([2, 17, 8, 6], seed: 1), b = random([2, 17, 8, 6], seed: 2)
        let offsets = neck.offsets(reference: a, support: b)
        XCTAssertEqual(offsets.map(\.shape), Array(repeating: [2, 2 * 17 * 9, 8, 6], count: 5))
        // Any heatmaps can be warped with them (pose propagation warps label heatmaps).
        let labels = random([2, 17, 8, 6], seed: 3)
        XCTAssertEqual(neck.warp(labels, offsets: offsets).shape, [2, 17, 8, 6])
        XCTAssertTrue(neck.warp(Tensor(shape: [2, 17, 8, 6], repeating: 0), offsets: offsets).storage.allSatisfy { $0 == 0 })
        XCTAssertNil(try PoseModel.random(.hrnet(widths: [4, 8, 16, 32])).neck)
    }
}
