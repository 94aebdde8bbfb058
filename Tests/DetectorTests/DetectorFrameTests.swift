import Foundation
@testable import Models
import Tensors
import XCTest

/// One small RGB frame end to end against the PyTorch reference: letterbox input, then boxes in
/// frame pixels (Tools/reference/detectors_ref.py `letterbox`, `postprocess`, `to_frame`).
final class DetectorFrameTests: XCTestCase {
    func testFrameToBoxesMatchesTheReference() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: DetectorFixtures.path("frames.json")))
        let spec = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        let frame = try DetectorFixtures.tensor("frame_rgb")   // [45, 70, 3], 0–255
        let (h, w) = (frame.shape[0], frame.shape[1])
        let rgb = frame.storage.map { UInt8($0) }
        let cases = spec["cases"] as! [[String: Any]]
        XCTAssertEqual(cases.count, 2)
        for c in cases {
            let name = c["name"] as! String
            let model = try DetectorModel.load(weights: DetectorFixtures.path(c["file"] as! String))
            var s = DetectorFixtures.testSettings(model, c["post"] as! [String: Any])
            let options = c["settings"] as! [String: Any]
            if let v = options["channel_order"] as? String { s.channelOrder = DetectorSettings.ChannelOrder(rawValue: v)! }
            if let v = options["mean"] as? [Double] { s.mean = v.map(Float.init) }
            if let v = options["std"] as? [Double] { s.std = v.map(Float.init) }
            if let v = options["letterbox"] as? String { s.letterbox = DetectorSettings.Letterbox(rawValue: v)! }
            if let v = options["pad_value"] as? Double { s.padValue = Float(v) }
            if let v = options["scale_rounding"] as? String { s.scaleRounding = DetectorSettings.ScaleRounding(rawValue: v)! }
            let (input, _) = detectorInput(rgb: rgb, width: w, height: h, settings: s)
            let expectedInput = try DetectorFixtures.tensor("\(name)_input")
            XCTAssertEqual(input.shape, expectedInput.shape)
            let d = TensorDifference(input, reference: expectedInput)
            XCTAssertLessThanOrEqual(d.maxAbs, 1e-5, "\(name) input: \(d)")

            let boxes = model.detectPersons(rgb: rgb, width: w, height: h, settings: s)
            let expected = try DetectorFixtures.tensor("\(name)_boxes")
            XCTAssertEqual(boxes.count, expected.shape[0], name)
            XCTAssertEqual(boxes.count, c["boxes"] as! Int)
            for (i, b) in boxes.enumerated() where i < expected.shape[0] {
                for (v, k) in zip([b.x1, b.y1, b.x2, b.y2, b.score], 0..<5) {
                    XCTAssertEqual(v, expected[i, k], accuracy: 1e-3 * max(1, abs(expected[i, k])), "\(name) box \(i)")
                }
            }
        }
    }
}
