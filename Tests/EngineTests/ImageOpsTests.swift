import Engine
import Tensors
import XCTest

final class ImageOpsTests: XCTestCase {
    func testUpsampleNearestMatchesPyTorch() throws {
        for c in try Fixtures.cases("upsample") {
            let y = upsampleNearest(try c.tensor("x"), factor: c.int("factor"))
            XCTAssertEqual(y, try c.tensor("y"), c.name)
        }
    }

    func testAddAndRelu() {
        let a = Tensor(shape: [1, 2, 1, 3], storage: [1, -2, 3, -4, 5, -6])
        let b = Tensor(shape: [1, 2, 1, 3], storage: [0.5, 0.5, -4, 4, 1, 1])
        XCTAssertEqual(add(a, b).storage, [1.5, -1.5, -1, 0, 6, -5])
        XCTAssertEqual(relu(a).storage, [1, 0, 3, 0, 5, 0])
    }

    /// The warp reproduces OpenCV's fixed-point warpAffine bit-exactly (numpy re-implementation in
    /// make_op_fixtures.py), so after normalisation the only difference is float rounding (≤ 1e-6).
    /// Against an exact float bilinear warp the uint8 crop differs by up to a few LSB on noise images
    /// (cases.txt records it), which is OpenCV's own 1/32-pixel quantisation.
    func testWarpAffineMatchesOpenCVFixedPoint() throws {
        for c in try Fixtures.cases("warp") {
            let rgbT = try c.tensor("rgb"), m = try c.tensor("matrix")
            let w = c.int("w"), h = c.int("h"), ow = c.int("ow"), oh = c.int("oh")
            let rgb = rgbT.storage.map { UInt8($0) }
            var out = [Float](repeating: .nan, count: 3 * ow * oh)
            rgb.withUnsafeBufferPointer { rb in
                out.withUnsafeMutableBufferPointer { ob in
                    warpAffineNormalized(rgb: rb, width: w, height: h, rowStride: w * 3,
                                         matrix: m.storage.map(Double.init), outWidth: ow, outHeight: oh,
                                         mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], into: ob.baseAddress!)
                }
            }
            let d = TensorDifference(Tensor(shape: [3, oh, ow], storage: out), reference: try c.tensor("y"))
            print("  \(c.name): \(d)")
            XCTAssertLessThanOrEqual(d.maxAbs, 1e-6, c.name)
        }
    }
}
