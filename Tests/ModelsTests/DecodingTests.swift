import Foundation
import Keypoints
import Models
import Tensors
import XCTest

/// TopDownGeometry and HeatmapDecoder against the reference implementation of mmpose's functions.
final class DecodingTests: XCTestCase {
    private var expected: [String: Any] { try! ModelFixtures.json("decode_expected.json") }

    private func geometryAndCrops() -> (TopDownGeometry, [TopDownGeometry.Crop], [[String: Any]]) {
        let size = expected["imageSize"] as! [Int]
        let geometry = TopDownGeometry(inputWidth: size[0], inputHeight: size[1])
        let cases = expected["boxes"] as! [[String: Any]]
        let crops = cases.map { c -> TopDownGeometry.Crop in
            let b = c["box"] as! [Double]
            return geometry.crop(box: b[0], b[1], b[2], b[3])
        }
        return (geometry, crops, cases)
    }

    func testBoxToCenterScaleIsBitExact() {
        let (_, crops, cases) = geometryAndCrops()
        for (crop, c) in zip(crops, cases) {
            let center = (c["center"] as! [Double]).map(Float.init)
            let scale = (c["scale"] as! [Double]).map(Float.init)
            XCTAssertEqual([crop.center.x, crop.center.y], center)
            XCTAssertEqual([crop.scale.w, crop.scale.h], scale)
        }
    }

    func testAffineMatricesMatchMmpose() {
        let (geometry, crops, cases) = geometryAndCrops()
        for (crop, c) in zip(crops, cases) {
            for (key, inverse) in [("matrix", false), ("inverse", true)] {
                let m = geometry.affineMatrix(crop, inverse: inverse)
                let ref = c[key] as! [Double]
                for (a, b) in zip(m, ref) { XCTAssertEqual(a, b, accuracy: 1e-9 * max(1, abs(b)), "\(key) \(m) vs \(ref)") }
            }
        }
    }

    private func check(_ mode: HeatmapDecoder.PostProcess, key: String, kernel: Int = 11, tolerance: Float) throws {
        let (_, crops, _) = geometryAndCrops()
        let heatmaps = try ModelFixtures.tensor("decode_heatmaps")
        let decoded = HeatmapDecoder(postProcess: mode, kernel: kernel).decode(heatmaps, crops: crops).flatMap { $0 }
        let ref = expected[key] as! [String: Any]
        let coords = (ref["coords"] as! [Double]).map(Float.init)
        XCTAssertEqual(decoded.count * 2, coords.count)
        var worst: Float = 0
        for (i, k) in decoded.enumerated() {
            worst = max(worst, abs(k.x - coords[2 * i]), abs(k.y - coords[2 * i + 1]))
        }
        print("decode \(mode) k=\(kernel): worst coordinate error \(worst) px")
        XCTAssertLessThanOrEqual(worst, tolerance, "\(mode)")
        if let scores = ref["scores"] as? [Double] {
            XCTAssertEqual(decoded.map(\.score), scores.map(Float.init))
        }
    }

    func testDefaultDecodingMatchesMmposeIncludingBorderRules() throws {
        try check(.default, key: "default", tolerance: 1e-4)
    }

    func testArgmaxOnlyDecoding() throws {
        try check(.none, key: "None", tolerance: 1e-4)
    }

    func testUnbiasedDecodingMatchesDark() throws {
        try check(.unbiased, key: "unbiased", tolerance: 2e-3)
        try check(.unbiased, key: "unbiased7", kernel: 7, tolerance: 2e-3)
    }

    func testFlipBackWithPoseTrackPairsAndShift() throws {
        let heatmaps = try ModelFixtures.tensor("decode_heatmaps")
        XCTAssertEqual(HeatmapDecoder.flipBack(heatmaps, flipPairs: KeypointSchema.posetrack18.flipPairs),
                       try ModelFixtures.tensor("decode_flip_back_posetrack18"))
        XCTAssertEqual(HeatmapDecoder.shiftHeatmap(HeatmapDecoder.flipBack(heatmaps, flipPairs: KeypointSchema.coco17.flipPairs)),
                       try ModelFixtures.tensor("decode_flip_back_shifted_coco17"))
    }
}
