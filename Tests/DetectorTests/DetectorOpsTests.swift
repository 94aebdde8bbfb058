import Engine
import Foundation
@testable import Models
import Tensors
import XCTest

/// The engine ops the detectors add, against plain definitions.
final class DetectorOpsTests: XCTestCase {
    private func random(_ shape: [Int], seed: UInt64) -> Tensor {
        var g = seed
        return Tensor(shape: shape, storage: (0..<shape.reduce(1, *)).map { _ in
            g = g &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: g >> 11) % 2000) / 1000 - 1
        })
    }

    func testDepthwiseMatchesGroupedConvolution() {
        for (k, stride, h, w) in [(3, 1, 9, 13), (3, 2, 9, 13), (5, 1, 8, 7), (5, 2, 10, 11), (3, 2, 2, 2)] {
            let c = 6
            let x = random([2, c, h, w], seed: UInt64(k * 100 + stride * 10 + h))
            let weight = random([c, 1, k, k], seed: 7), bias = random([c], seed: 9)
            let reference = Conv2d(weight: weight, bias: bias, stride: stride, padding: k / 2, groups: c, algorithm: .im2col)(x)
            let y = DepthwiseConv2d(weight: weight, bias: bias, stride: stride, padding: k / 2)(x)
            XCTAssertLessThanOrEqual(TensorDifference(y, reference: reference).relativeL2, 1e-6, "k\(k) s\(stride) \(h)×\(w)")
            let silu = DepthwiseConv2d(weight: weight, bias: bias, stride: stride, padding: k / 2)(x, activation: .silu)
            let expected = reference.storage.map { Double($0) / (1 + Foundation.exp(-Double($0))) }
            XCTAssertLessThanOrEqual(TensorDifference(silu.storage, reference: expected.map(Float.init)).relativeL2, 1e-6)
        }
    }

    func testActivationsAgainstDoubleFormulas() {
        let values: [Float] = [-100, -87, -20, -3.5, -1, -1e-3, 0, 1e-3, 0.5, 1, 2.9, 3, 3.1, 10, 80, 100]
        let x = Tensor(shape: [values.count], storage: values)
        let silu: (Double) -> Double = { v in v / (1 + exp(-v)) }
        let sigmoid: (Double) -> Double = { v in 1 / (1 + exp(-v)) }
        let hardSigmoid: (Double) -> Double = { v in min(max(v + 3, 0), 6) / 6 }
        let relu: (Double) -> Double = { v in max(v, 0) }
        let cases: [(Activation, (Double) -> Double)] = [(.silu, silu), (.sigmoid, sigmoid), (.hardSigmoid, hardSigmoid), (.relu, relu)]
        for (act, f) in cases {
            let y = activated(x, act)
            for (v, r) in zip(y.storage, values.map { f(Double($0)) }) {
                XCTAssertEqual(Double(v), r, accuracy: 3e-7 * max(1, abs(r)), "\(act) of \(values)")
            }
        }
    }

    func testMaxPoolSameAndItsComposition() {
        let x = random([1, 3, 11, 14], seed: 3)
        for k in [1, 3, 5, 9, 13] {
            let y = maxPoolSame(x, kernel: k)
            let r = k / 2
            for c in 0..<3 { for i in 0..<11 { for j in 0..<14 {
                var m = -Float.infinity
                for a in max(0, i - r)...min(10, i + r) {
                    for b in max(0, j - r)...min(13, j + r) { m = max(m, x[0, c, a, b]) }
                }
                XCTAssertEqual(y[0, c, i, j], m)
            } } }
        }
        XCTAssertEqual(maxPoolSame(maxPoolSame(x, kernel: 5), kernel: 5), maxPoolSame(x, kernel: 9))
    }

    func testSpaceToDepthOrderIsFocus() {
        let x = Tensor(shape: [1, 1, 2, 2], storage: [1, 2, 3, 4])   // [[tl, tr], [bl, br]]
        XCTAssertEqual(spaceToDepth(x).storage, [1, 3, 2, 4])         // tl, bl, tr, br
    }

    func testNMSKeepsBestAndDropsOverlapsAboveThreshold() {
        let boxes = [Detection(x1: 0, y1: 0, x2: 10, y2: 10, score: 0.8),
                     Detection(x1: 1, y1: 0, x2: 11, y2: 10, score: 0.9),      // IoU 9/11 with the first
                     Detection(x1: 20, y1: 20, x2: 30, y2: 30, score: 0.5),
                     Detection(x1: 5, y1: 0, x2: 15, y2: 10, score: 0.7)]      // IoU 1/3 with box 0, 6/14 with box 1
        XCTAssertEqual(nonMaximumSuppression(boxes, threshold: 0.45).map(\.score), [0.9, 0.7, 0.5])
        XCTAssertEqual(nonMaximumSuppression(boxes, threshold: 0.4).map(\.score), [0.9, 0.5])
        XCTAssertEqual(nonMaximumSuppression(boxes, threshold: 0.45, limit: 2).map(\.score), [0.9, 0.7])
    }

    func testLetterboxPlacesAndMapsBack() throws {
        let d = try DetectorModel.load(weights: DetectorFixtures.path("rtmdet_person.pth")).description
        var s = DetectorSettings.defaults(for: d)
        s.inputWidth = 64; s.inputHeight = 64
        let w = 40, h = 20
        let rgb = [UInt8]((0..<(w * h)).flatMap { _ in [200, 100, 50] as [UInt8] })
        for letterbox in DetectorSettings.Letterbox.allCases {
            s.letterbox = letterbox
            let (x, t) = detectorInput(rgb: rgb, width: w, height: h, settings: s)
            XCTAssertEqual(x.shape, [1, 3, 64, 64])
            XCTAssertEqual(t.scaleX, 1.6, accuracy: 1e-12); XCTAssertEqual(t.scaleY, 1.6, accuracy: 1e-12)
            let top = letterbox == .center ? 16 : 0
            XCTAssertEqual(t.offsetY, Double(top))
            // BGR order, normalised; image rows top..<top+32, padding elsewhere.
            XCTAssertEqual(x[0, 0, top + 5, 10], (50 - s.mean[0]) / s.std[0], accuracy: 1e-5)
            XCTAssertEqual(x[0, 2, top + 31, 63], (200 - s.mean[2]) / s.std[2], accuracy: 1e-5)
            let padRow = letterbox == .center ? 5 : 40
            XCTAssertEqual(x[0, 1, padRow, 3], (114 - s.mean[1]) / s.std[1], accuracy: 1e-5)
            let back = t.toFrame(Detection(x1: 16, y1: Float(top) + 8, x2: 48, y2: Float(top) + 24, score: 1))
            XCTAssertEqual([back.x1, back.y1, back.x2, back.y2], [10, 5, 30, 15])
        }
    }
}
