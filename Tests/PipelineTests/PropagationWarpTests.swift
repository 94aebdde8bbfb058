import Foundation
import Keypoints
import Models
import Tensors
import XCTest
@testable import Pipeline

/// `propagate --method warp` against the PyTorch reference (Tools/reference/make_propagation_fixtures.py)
/// on the tiny random PoseWarper, and on the real PoseTrack clip.
final class PropagationWarpTests: XCTestCase {
    static let folder = Fixtures.packageRoot.appendingPathComponent("Tests/PipelineTests/Fixtures/propagation").path

    struct Case: Decodable {
        var center: [Float]
        var scale: [Float]
        var sigma: Double
        var heatmapSize: [Int]
        var sources: [[[Double]]]
        var weights: [[Float]]
        var decoded: [[Double]]
        var crop: TopDownGeometry.Crop {
            TopDownGeometry.Crop(center: (center[0], center[1]), scale: (scale[0], scale[1]))
        }
    }

    static func loadCase() throws -> Case {
        try JSONDecoder().decode(Case.self, from: Data(contentsOf: URL(fileURLWithPath: folder + "/case.json")))
    }

    func testLabelHeatmapsMatchTheReference() throws {
        let c = try Self.loadCase()
        let expected = try NPY.read(Self.folder + "/labels.npy")
        for (i, source) in c.sources.enumerated() {
            let maps = LabelHeatmaps.render(keypoints: source, crop: c.crop, width: c.heatmapSize[0], height: c.heatmapSize[1], sigma: c.sigma)
            let reference = Tensor(shape: [17, c.heatmapSize[1], c.heatmapSize[0]],
                                   storage: Array(expected.storage[i * maps.count..<(i + 1) * maps.count]))
            let d = TensorDifference(maps, reference: reference)
            XCTAssertLessThanOrEqual(d.maxAbs, 1e-6, "source \(i): \(d)")
        }
    }

    /// A label heatmap decodes back to its label (the centre is not rounded to the heatmap grid).
    func testDecodedLabelHeatmapsGiveTheLabelsBack() throws {
        let geometry = TopDownGeometry(inputWidth: 288, inputHeight: 384)
        let crop = geometry.crop(box: 100, 50, 120, 300)
        let keypoints = (0..<17).map { k -> [Double] in [130 + Double(k) * 5.3, 90 + Double(k) * 13.7, k == 3 ? 0 : 2] }
        let maps = LabelHeatmaps.render(keypoints: keypoints, crop: crop, width: 72, height: 96, sigma: 3)
        let decoded = HeatmapDecoder(postProcess: .unbiased, kernel: 11).decode(maps.reshaped([1, 17, 96, 72]), crops: [crop])[0]
        for k in 0..<17 where k != 3 {
            XCTAssertEqual(Double(decoded[k].x), keypoints[k][0], accuracy: 0.25, "slot \(k)")
            XCTAssertEqual(Double(decoded[k].y), keypoints[k][1], accuracy: 0.25, "slot \(k)")
            XCTAssertEqual(decoded[k].score, 1, accuracy: 0.05)
        }
        XCTAssertEqual(maps.storage[3 * 96 * 72..<4 * 96 * 72].max(), 0, "an unlabelled slot's channel is zero")
    }

    /// The real PoseTrack clip (../shared, skipped when absent) with hand-placed labels on frames 0
    /// and 4: every method writes all five frames, keeps the labels, and carries both players.
    func testRealClipWithHandWrittenLabels() throws {
        let clip = Fixtures.realClip + "/000001_mpiinew_test.mp4"
        guard FileManager.default.fileExists(atPath: clip) else { throw XCTSkip("\(Fixtures.realClip) is absent") }
        let dir = Fixtures.scratch()
        let labels = Self.folder + "/clip_labels.json"
        let input = try XCTUnwrap(PropagationTests.readJSON(labels) as? [String: Any])
        for method in ["interpolate", "copy"] {
            let out = dir + "/dense-\(method).json"
            let r = try CLITests.run(["propagate", clip, "--labels", labels, "--out", out, "--method", method])
            XCTAssertEqual(r.code, 0, r.stderr)
            let doc = try XCTUnwrap(PropagationTests.readJSON(out) as? [String: Any])
            XCTAssertEqual((doc["images"] as? [Any])?.count, 5)
            let annotations = try XCTUnwrap(doc["annotations"] as? [[String: Any]])
            let labelled = annotations.filter { [10_000_010_000, 10_000_010_004].contains($0["image_id"] as! Int) }
            XCTAssertEqual(labelled.map { $0 as NSDictionary }, (input["annotations"] as! [[String: Any]]).map { $0 as NSDictionary })
            for f in 1...3 {
                let tracks = annotations.filter { $0["image_id"] as? Int == 10_000_010_000 + f }.compactMap { $0["track_id"] as? Int }
                XCTAssertEqual(tracks, [3, 5], "\(method), frame \(f)")
            }
        }
    }
}
