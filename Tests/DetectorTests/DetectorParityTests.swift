import Foundation
@testable import Models
import Tensors
import XCTest

/// Files written by Tools/reference/make_detector_fixtures.py (PyTorch reference, committed).
enum DetectorFixtures {
    static let directory: String = {
        if let url = Bundle.module.url(forResource: "Fixtures", withExtension: nil) { return url.path }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path
    }()
    static func path(_ name: String) -> String { "\(directory)/\(name)" }
    static func tensor(_ name: String) throws -> Tensor { try NPY.read(path(name + ".npy")) }
    static var cases: [[String: Any]] {
        let data = try! Data(contentsOf: URL(fileURLWithPath: path("cases.json")))
        return (try! JSONSerialization.jsonObject(with: data) as! [String: Any])["cases"] as! [[String: Any]]
    }
    static func testSettings(_ model: DetectorModel, _ post: [String: Any]) -> DetectorSettings {
        var s = DetectorSettings.defaults(for: model.description)
        s.inputWidth = 96; s.inputHeight = 64
        s.scoreThreshold = Float(post["score_threshold"] as! Double)
        s.nmsThreshold = Float(post["nms_threshold"] as! Double)
        s.maxDetections = post["max_detections"] as! Int
        s.expOnRegression = post["exp_on_reg"] as? Bool ?? false
        return s
    }
}

func assertClose(_ value: Tensor, _ reference: Tensor, bound: Double, _ label: String, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(value.shape, reference.shape, "\(label): shape", file: file, line: line)
    let d = TensorDifference(value, reference: reference)
    print("\(label): \(d)")
    XCTAssertLessThanOrEqual(d.relativeL2, bound, "\(label): \(d)", file: file, line: line)
}

/// Tiny random YOLOX / RTMDet checkpoints in the official layouts against the PyTorch float64 reference.
final class DetectorParityTests: XCTestCase {
    func testRawHeadOutputsAndBoxesMatchTorch() throws {
        let raw = try DetectorFixtures.tensor("input"), normalised = try DetectorFixtures.tensor("input_rtmdet")
        XCTAssertEqual(DetectorFixtures.cases.count, 4)
        for c in DetectorFixtures.cases {
            let name = c["name"] as! String
            for file in c["files"] as! [String] {
                let model = try DetectorModel.load(weights: DetectorFixtures.path(file))
                XCTAssertEqual(model.description.family.rawValue.lowercased(), c["family"] as! String, file)
                let levels = model.forward(model.description.family == .yolox ? raw : normalised)
                XCTAssertEqual(levels.map(\.stride), [8, 16, 32])
                // References in float64. These narrow random nets amplify float32 rounding: PyTorch's own
                // float32 run is up to 9.5e-6 from float64 on them (full-size detectors: `make precision`).
                let bound = 2e-5
                for (l, level) in levels.enumerated() {
                    assertClose(level.classes, try DetectorFixtures.tensor("\(name)_l\(l)_cls"), bound: bound, "\(file) level \(l) cls")
                    assertClose(level.boxes, try DetectorFixtures.tensor("\(name)_l\(l)_reg"), bound: bound, "\(file) level \(l) reg")
                    if model.description.family == .yolox {
                        assertClose(level.objectness!, try DetectorFixtures.tensor("\(name)_l\(l)_obj"), bound: bound, "\(file) level \(l) obj")
                    } else {
                        XCTAssertNil(level.objectness)
                    }
                }
                let settings = DetectorFixtures.testSettings(model, c["post"] as! [String: Any])
                let boxes = decodePersons(levels, family: model.description.family, settings: settings)
                let expected = try DetectorFixtures.tensor("\(name)_boxes")
                XCTAssertEqual(boxes.count, expected.shape[0], "\(file): box count")
                XCTAssertEqual(boxes.count, c["boxes"] as! Int)
                for (i, b) in boxes.enumerated() where i < expected.shape[0] {
                    let e = (0..<5).map { expected[i, $0] }
                    for (v, r) in zip([b.x1, b.y1, b.x2, b.y2], e[0..<4]) {
                        XCTAssertEqual(v, r, accuracy: 1e-3 * max(1, abs(r)), "\(file) box \(i)")
                    }
                    XCTAssertEqual(b.score, e[4], accuracy: 1e-5, "\(file) box \(i) score")
                }
            }
        }
    }

    func testDescriptionsInferredFromNamesAndShapes() throws {
        let megvii = try DetectorModel.load(weights: DetectorFixtures.path("yolox_megvii.pth")).description
        let mmdet = try DetectorModel.load(weights: DetectorFixtures.path("yolox_mmdet.pth")).description
        XCTAssertEqual(megvii.layout, .megvii)
        XCTAssertEqual(mmdet.layout, .mmdet)
        var same = megvii; same.layout = .mmdet
        XCTAssertEqual(same, mmdet)
        XCTAssertEqual(megvii.stemChannels, [4])
        XCTAssertEqual(megvii.stageChannels, [8, 16, 32, 64])
        XCTAssertEqual(megvii.stageBlocks, [1, 3, 3, 1])
        XCTAssertEqual(megvii.classes, 3)
        XCTAssertFalse(megvii.depthwise)
        let nano = try DetectorModel.load(weights: DetectorFixtures.path("yolox_dw_megvii.pth")).description
        XCTAssertTrue(nano.depthwise && nano.headDepthwise)
        XCTAssertEqual(nano.classes, 80)
        let rtm = try DetectorModel.load(weights: DetectorFixtures.path("rtmdet_person.pth")).description
        XCTAssertEqual(rtm.family, .rtmdet)
        XCTAssertEqual(rtm.stemChannels, [4, 4, 8])
        XCTAssertEqual(rtm.stageBlocks, [1, 1, 1, 1])
        XCTAssertEqual(rtm.classes, 1)
        XCTAssertTrue(rtm.channelAttention)
        XCTAssertFalse(rtm.depthwise)
        let rtmDW = try DetectorModel.load(weights: DetectorFixtures.path("rtmdet_dw.pth")).description
        XCTAssertTrue(rtmDW.depthwise && rtmDW.headDepthwise && rtmDW.neckBlocksDepthwise && rtmDW.neckOutDepthwise)
        XCTAssertFalse(rtm.neckOutDepthwise || rtm.neckBlocksDepthwise)
        XCTAssertEqual(rtmDW.classes, 2)
    }

    func testDefaultsFollowEachRelease() throws {
        let megvii = DetectorSettings.defaults(for: try DetectorModel.load(weights: DetectorFixtures.path("yolox_megvii.pth")).description)
        XCTAssertEqual(megvii.channelOrder, .bgr)
        XCTAssertEqual(megvii.mean, [0, 0, 0]); XCTAssertEqual(megvii.std, [1, 1, 1])
        XCTAssertEqual(megvii.padValue, 114); XCTAssertEqual(megvii.letterbox, .topLeft)
        XCTAssertEqual(megvii.scaleRounding, .floor)
        let rtm = DetectorSettings.defaults(for: try DetectorModel.load(weights: DetectorFixtures.path("rtmdet_person.pth")).description)
        XCTAssertEqual(rtm.mean, [103.53, 116.28, 123.675]); XCTAssertEqual(rtm.std, [57.375, 57.12, 58.395])
        XCTAssertEqual(rtm.scaleRounding, .round)
        XCTAssertFalse(rtm.expOnRegression)
    }
}

/// Release sizes computed from the upstream multipliers, and networks built from them.
final class DetectorReleaseTests: XCTestCase {
    func testReleaseArchitectures() throws {
        let s = DetectorDescription.release(.yolox, size: "s")!
        XCTAssertEqual(s.stemChannels, [32]); XCTAssertEqual(s.stageChannels, [64, 128, 256, 512])
        XCTAssertEqual(s.stageBlocks, [1, 3, 3, 1]); XCTAssertEqual(s.neckBlocks, 1); XCTAssertEqual(s.headChannels, 128)
        XCTAssertEqual(s.sizeName, "s")
        let l = DetectorDescription.release(.yolox, size: "l")!
        XCTAssertEqual(l.stageBlocks, [3, 9, 9, 3]); XCTAssertEqual(l.neckBlocks, 3)
        let m = DetectorDescription.release(.rtmdet, size: "m")!
        XCTAssertEqual(m.stemChannels, [24, 24, 48]); XCTAssertEqual(m.stageBlocks, [2, 4, 4, 2]); XCTAssertEqual(m.neckBlocks, 2)
        XCTAssertEqual(m.headChannels, 192)
        XCTAssertTrue(DetectorSettings.defaults(for: m).expOnRegression)
        let tiny = DetectorDescription.release(.rtmdet, size: "tiny")!
        XCTAssertEqual(tiny.stemChannels, [12, 12, 24]); XCTAssertEqual(tiny.stageBlocks, [1, 1, 1, 1])
        XCTAssertFalse(DetectorSettings.defaults(for: tiny).expOnRegression)
        XCTAssertEqual(DetectorSettings.defaults(for: DetectorDescription.release(.yolox, size: "nano")!).inputWidth, 416)
        XCTAssertEqual(DetectorSettings.defaults(for: DetectorDescription.release(.rtmdet, size: "nano", classes: 1)!).inputWidth, 320)
        XCTAssertNil(DetectorDescription.release(.yolox, size: "huge"))
    }

    func testRandomReleaseNetworkRuns() throws {
        let model = try DetectorModel(randomWeights: DetectorDescription.release(.yolox, size: "nano")!)
        let levels = model.forward(Tensor(shape: [1, 3, 64, 96], repeating: 0.5))
        XCTAssertEqual(levels.map(\.classes.shape), [[1, 80, 8, 12], [1, 80, 4, 6], [1, 80, 2, 3]])
        XCTAssertTrue(levels.allSatisfy { $0.boxes.storage.allSatisfy(\.isFinite) })
    }
}
