import Engine
import Foundation
import Models
import Tensors
import XCTest

/// A crop's encoding does not depend on the crops batched with it: a run that starts mid-video
/// (--start, --segment) batches its first windows differently from a whole run and must still give
/// the same bits.
final class BatchInvarianceTests: XCTestCase {
    func testEncodingACropAloneOrInABatchGivesTheSameBits() throws {
        // Widths of 16 and more let the convolutions choose Winograd, whose choice depends on the batch.
        let model = try PoseModel.random(.hrnet(widths: [16, 32, 64, 128], poseWarperNeck: (channels: 16, blocks: 1)))
        var state: UInt64 = 7
        let crops = Tensor(shape: [4, 3, 128, 96], storage: (0..<(4 * 3 * 128 * 96)).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(state >> 40) / Float(1 << 23) - 1
        })
        let batched = model.encode(crops)
        for i in 0..<4 {
            let alone = model.encode(sliceBatch(crops, start: i, count: 1))
            XCTAssertEqual(alone.storage, sliceBatch(batched, start: i, count: 1).storage, "crop \(i)")
        }
        let pair = model.encode(sliceBatch(crops, start: 1, count: 2))
        XCTAssertEqual(pair.storage, sliceBatch(batched, start: 1, count: 2).storage)
    }
}
