import Checkpoints
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

    /// The warp path on the tiny random PoseWarper against propagate_warp in posewarper_ref.py:
    /// label heatmaps drawn here, the plan's per-joint weights, offsets from target − source, the
    /// deformable warp, the weighted sum and the decoded keypoints.
    func testWarpPathMatchesTheReference() throws {
        let c = try Self.loadCase()
        let config = try PipelineFile.load(Fixtures.tinyPipeline)
        XCTAssertEqual(config.model.sigma, c.sigma)
        let warper = try LabelWarper(config: config, weights: nil)
        let (w, h) = (c.heatmapSize[0], c.heatmapSize[1])
        let labels = c.sources.map { LabelHeatmaps.render(keypoints: $0, crop: c.crop, width: w, height: h, sigma: config.model.sigma) }
        // Sources 1 and 2 frames away, weighted as the plan weights them.
        let sources = zip(c.sources, [1, 2]).map { keypoints, d in
            PropagationPlan.Source(frame: d, instance: LabelsFile.Instance(trackID: 0, box: nil, keypoints: keypoints, annotation: [:]),
                                   distance: d, weight: d == 1 ? 2.0 / 3 : 1.0 / 3)
        }
        let task = PropagationPlan.Task(frame: 0, trackID: 0, sources: sources, box: PersonBox(x: 0, y: 0, width: 1, height: 1))
        let weights = (0..<2).map { i in (0..<17).map { k in Float(task.weights(joint: k).first { $0.source == i }?.weight ?? 0) } }
        for i in 0..<2 { for k in 0..<17 { XCTAssertEqual(weights[i][k], c.weights[i][k], accuracy: 1e-7, "source \(i), joint \(k)") } }

        let out = warper.warpedHeatmaps(crops: try NPY.read(Self.folder + "/crops.npy"), sourcesPerTarget: [2],
                                        labels: Tensor(shape: [2, 17, h, w], storage: labels.flatMap(\.storage)), weights: weights)
        let d = TensorDifference(out, reference: try NPY.read(Self.folder + "/output.npy"))
        XCTAssertLessThanOrEqual(d.relativeL2, 1e-5, "\(d)")
        XCTAssertLessThanOrEqual(d.maxAbs, 1e-5, "\(d)")
        XCTAssertEqual(out.storage[3 * h * w..<4 * h * w].max(), 0, "a joint no source labels gets nothing")

        let decoded = warper.decoder.decode(out, crops: [c.crop])[0]
        for k in 0..<17 where k != 3 {
            XCTAssertEqual(Double(decoded[k].x), c.decoded[k][0], accuracy: 1e-3, "joint \(k)")
            XCTAssertEqual(Double(decoded[k].y), c.decoded[k][1], accuracy: 1e-3, "joint \(k)")
            XCTAssertEqual(Double(decoded[k].score), c.decoded[k][2], accuracy: 1e-5, "joint \(k)")
        }
    }

    /// `propagate --method warp` end to end on a generated clip with the tiny model: poses carry
    /// their tracks, labelled frames stay, and the output is the same at any thread count.
    func testWarpCommandIsCompleteAndDeterministic() throws {
        let dir = Fixtures.scratch()
        try Fixtures.makeVideo(dir + "/clip.mp4", frames: 9)
        let labels = try PropagationTests.write(PropagationTests.poseTrackLabels(frames: 9, step: 4), "sparse.json", in: dir)
        var outputs: [Data] = []
        for threads in ["1", "2"] {
            let out = dir + "/dense\(threads).json"
            let r = try CLITests.run(["propagate", dir + "/clip.mp4", "--labels", labels, "--out", out, "--pipeline", Fixtures.tinyPipeline,
                                      "--max-gap", "2", "--threads", threads, "--keypoints", dir + "/k\(threads).jsonl"])
            XCTAssertEqual(r.code, 0, r.stderr)
            XCTAssertTrue(r.stderr.contains("(warp, max gap 2)"), r.stderr)
            outputs.append(try Data(contentsOf: URL(fileURLWithPath: out)))
        }
        XCTAssertEqual(outputs[0], outputs[1], "bit-identical at 1 and 2 threads")
        let doc = try XCTUnwrap(try JSONSerialization.jsonObject(with: outputs[0]) as? [String: Any])
        let annotations = try XCTUnwrap(doc["annotations"] as? [[String: Any]])
        let frame1 = annotations.filter { $0["image_id"] as? Int == BoxesFile.poseTrackFrameID(video: 1, frame: 1) }
        XCTAssertEqual(frame1.compactMap { $0["track_id"] as? Int }, [2, 7])
        let scores = frame1.flatMap { $0["scores"] as! [Double] }
        XCTAssertTrue(scores.contains { $0 > 0 }, "some keypoints propagated")
        for a in frame1 {
            let keypoints = a["keypoints"] as! [Double]
            XCTAssertEqual(Array(keypoints[9..<12]), [0, 0, 0], "slot 3 is labelled nowhere")
        }
        // Warp needs a PoseWarper: a top-down checkpoint is refused by name.
        let topDown = try CLITests.run(["propagate", dir + "/clip.mp4", "--labels", labels, "--out", dir + "/td.json",
                                        "--weights", Fixtures.tinyTopDown])
        XCTAssertEqual(topDown.code, 1)
        XCTAssertTrue(topDown.stderr.contains("needs a PoseWarper checkpoint"), topDown.stderr)
    }

    /// With a neck that does not move anything (offset layers zero, deformable convs the identity
    /// on the centre tap, mmpose's initialisation), warping from one side must give exactly the
    /// decoded label heatmaps of that side drawn in the target's crop: this pins the whole path
    /// (streaming, the interpolated box, crops, rendering, batching, decoding) to the labels.
    func testAnIdentityNeckCarriesTheLabelsUnchanged() throws {
        let checkpoint = try Checkpoint.load(Fixtures.tinyPoseWarper)
        var shapes: [String: [Int]] = [:]
        for e in checkpoint.entries { shapes[e.name] = checkpoint.shape(e.name) }
        let model = try PoseModel(shapes: shapes, file: "identity neck") { name in
            let t = try checkpoint.tensor(name)
            if name.hasPrefix("neck.offset_layers.") { return Tensor(shape: t.shape, repeating: 0) }
            if name.hasPrefix("neck.deform_conv_layers.") {
                var identity = Tensor(shape: t.shape, repeating: 0)
                for k in 0..<t.shape[0] { identity.storage[((k * t.shape[1] + k) * 3 + 1) * 3 + 1] = 1 }
                return identity
            }
            return t
        }
        let config = try PipelineFile.load(Fixtures.tinyPipeline)
        let warper = try LabelWarper(config: config, model: model)
        let dir = Fixtures.scratch()
        try Fixtures.makeVideo(dir + "/clip.mp4", frames: 9, width: 320, height: 240)
        let labels = try LabelsFile(path: try PropagationTests.write(PropagationTests.poseTrackLabels(frames: 9, step: 4), "sparse.json", in: dir),
                                    frameCount: 9)
        let plan = PropagationPlan(labels, maxGap: 1)
        let poses = try warper.run(plan, video: dir + "/clip.mp4")
        XCTAssertEqual(poses.keys.sorted(), [1, 3, 5, 7])
        for (t, tasks) in plan.tasks {
            for (task, pose) in zip(tasks, poses[t]!) {
                XCTAssertEqual(task.sources.count, 1)
                XCTAssertEqual(pose.trackID, task.trackID)
                let crop = warper.crops.transform(for: task.box)
                let maps = LabelHeatmaps.render(keypoints: task.sources[0].instance.keypoints, crop: crop,
                                                width: warper.heatmapWidth, height: warper.heatmapHeight, sigma: config.model.sigma)
                let expected = warper.decoder.decode(maps.reshaped([1] + maps.shape), crops: [crop])[0]
                for k in 0..<17 {
                    guard task.sources[0].instance.isLabelled(k) else { XCTAssertEqual(pose.keypoints[k], [0, 0, 0]); continue }
                    XCTAssertEqual(pose.keypoints[k][0], Double(expected[k].x), accuracy: 1e-3, "frame \(t), track \(task.trackID), slot \(k)")
                    XCTAssertEqual(pose.keypoints[k][1], Double(expected[k].y), accuracy: 1e-3, "frame \(t), track \(task.trackID), slot \(k)")
                    XCTAssertEqual(pose.keypoints[k][2], Double(expected[k].score), accuracy: 1e-5)
                    // And within a heatmap pixel of the label itself.
                    let pixel = Double(crop.scale.w) * 200 / Double(warper.heatmapWidth)
                    XCTAssertEqual(pose.keypoints[k][0], task.sources[0].instance.keypoints[k][0], accuracy: pixel)
                    XCTAssertEqual(pose.flags[k], 1)
                }
            }
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
        for method in ["warp", "interpolate", "copy"] {
            let out = dir + "/dense-\(method).json"
            let r = try CLITests.run(["propagate", clip, "--labels", labels, "--out", out, "--method", method, "--pipeline", Fixtures.tinyPipeline])
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
