import Engine
import Foundation
import Keypoints
import XCTest
@testable import Pipeline
import Video

final class PipelineFileTests: XCTestCase {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    func testShippedPoseWarperFileHasMmposeStage2Numbers() throws {
        let path = Self.packageRoot.appendingPathComponent("Pipelines/posewarper-hrnet-w48-posetrack18-384x288.yml").path
        let c = try PipelineFile.load(path)
        XCTAssertEqual(c.model.schema, .posetrack18)
        XCTAssertEqual([c.model.inputWidth, c.model.inputHeight], [288, 384])
        XCTAssertEqual([c.model.heatmapWidth, c.model.heatmapHeight], [72, 96])
        XCTAssertFalse(c.model.flipTest)
        XCTAssertTrue(c.model.shiftHeatmap)
        XCTAssertEqual(c.model.sigma, 3, "TopDownGenerateTarget sigma of the stage-2 config")
        XCTAssertEqual(c.temporal.frameOffsets, [0, -2, -1, 1, 2])
        XCTAssertEqual(c.temporal.frameWeights, [0.3, 0.1, 0.25, 0.25, 0.1])
        XCTAssertEqual(c.temporal.dilations, [3, 6, 12, 18, 24])
        XCTAssertEqual(c.persons.scoreThreshold, 0.2)
        XCTAssertEqual(c.persons.bboxPadding, 1.25)
        XCTAssertEqual(c.tracking.method, .iou)
        XCTAssertEqual(c.tracking.threshold, 0.3)
        // Relative weights resolve against the pipeline file's folder.
        XCTAssertEqual(c.model.weights, Self.packageRoot.appendingPathComponent(
            "Pipelines/hrnet_w48_posetrack18_384x288_posewarper_stage2-4abf88db_20211130.pth").standardized.path)
        XCTAssertEqual(c.lookAhead, 2)
        XCTAssertEqual(c.lookBehind, 2)
    }

    /// Without --pipeline the CLI uses built-in settings; they must be the shipped files' numbers.
    func testBuiltInDefaultsEqualTheShippedFiles() throws {
        for (file, builtIn) in [("posewarper-hrnet-w48-posetrack18-384x288.yml", PipelineConfig.poseWarperPoseTrack18),
                                ("hrnet-w32-coco-256x192.yml", PipelineConfig.hrnetCOCO)] {
            let c = try PipelineFile.load(Self.packageRoot.appendingPathComponent("Pipelines/" + file).path)
            XCTAssertEqual(c.model.schema, builtIn.model.schema, file)
            XCTAssertEqual([c.model.inputWidth, c.model.inputHeight, c.model.heatmapWidth, c.model.heatmapHeight],
                           [builtIn.model.inputWidth, builtIn.model.inputHeight, builtIn.model.heatmapWidth, builtIn.model.heatmapHeight], file)
            XCTAssertEqual(c.model.mean, builtIn.model.mean, file)
            XCTAssertEqual(c.model.std, builtIn.model.std, file)
            XCTAssertEqual([c.model.flipTest, c.model.shiftHeatmap], [builtIn.model.flipTest, builtIn.model.shiftHeatmap], file)
            XCTAssertEqual(c.model.postProcess, builtIn.model.postProcess, file)
            XCTAssertEqual(c.model.sigma, builtIn.model.sigma, file)
            XCTAssertEqual(c.temporal.frameOffsets, builtIn.temporal.frameOffsets, file)
            XCTAssertEqual(c.temporal.frameWeights, builtIn.temporal.frameWeights, file)
            XCTAssertEqual(c.persons.scoreThreshold, builtIn.persons.scoreThreshold, file)
            XCTAssertEqual(c.persons.bboxPadding, builtIn.persons.bboxPadding, file)
            XCTAssertEqual(c.tracking.threshold, builtIn.tracking.threshold, file)
            XCTAssertEqual(c.output.drawThreshold, builtIn.output.drawThreshold, file)
            XCTAssertEqual(c.output.rescoreThreshold, builtIn.output.rescoreThreshold, file)
        }
    }

    func testShippedTopDownFile() throws {
        let c = try PipelineFile.load(Self.packageRoot.appendingPathComponent("Pipelines/hrnet-w32-coco-256x192.yml").path)
        XCTAssertEqual(c.model.schema, .coco17)
        XCTAssertEqual([c.model.inputWidth, c.model.inputHeight], [192, 256])
        XCTAssertTrue(c.model.flipTest)
        XCTAssertEqual(c.temporal.frameOffsets, [0])
        XCTAssertEqual(c.lookAhead, 0)
        XCTAssertTrue(c.model.weights!.hasSuffix("Pipelines/hrnet_w32_coco_256x192-c78dce93_20200708.pth"))
    }

    private func error(_ yaml: String) -> String {
        do { _ = try PipelineFile.parse(yaml, path: "/tmp/p.yml"); return "no error" } catch { return "\(error)" }
    }

    let base = """
    model:
      schema: coco17
      input_size: [192, 256]

    """

    func testSmoothingSection() throws {
        XCTAssertNil(try PipelineFile.parse(base, path: "/x/p.yml").smoothing.method, "no smoothing unless asked")
        let c = try PipelineFile.parse(base + "smoothing:\n  method: savitzky_golay\n  window: 7\n  score_threshold: 0.5\n", path: "/x/p.yml")
        XCTAssertEqual(c.smoothing.method, .savitzkyGolay(window: 7, polyorder: 2))
        XCTAssertEqual(c.smoothing.scoreThreshold, 0.5)
        XCTAssertEqual(try PipelineFile.parse(base + "smoothing:\n  method: one_euro\n", path: "/x/p.yml").smoothing.method,
                       SmoothingMethod.oneEuroDefault)
        XCTAssertEqual(error(base + "smoothing:\n  method: gaussian\n  beta: 0.1\n"),
                       "/tmp/p.yml:6: smoothing.beta is a parameter of one_euro, but smoothing.method is gaussian")
        XCTAssertEqual(error(base + "smoothing:\n  method: gaussian\n  window: 4\n"),
                       "/tmp/p.yml:5: smoothing: gaussian window must be a positive odd number of frames, got 4")
        XCTAssertTrue(error(base + "smoothing:\n  method: kalman\n").contains("smoothing.method must be one of none, one_euro, gaussian, savitzky_golay"))
    }

    func testModelPrecision() throws {
        XCTAssertEqual(try PipelineFile.parse(base, path: "/x/p.yml").model.precision, .float32, "float32 unless asked")
        XCTAssertEqual(try PipelineFile.parse(base + "  precision: bf16\n", path: "/x/p.yml").model.precision, .bfloat16)
        XCTAssertEqual(try PipelineFile.parse(base + "  precision: fp32\n", path: "/x/p.yml").model.precision, .float32)
        XCTAssertEqual(error(base + "  precision: fp16\n"), "/tmp/p.yml:4: model.precision must be one of fp32, bf16 (got 'fp16')")
    }

    func testUnknownKeyNamesFileAndLine() {
        XCTAssertEqual(error(base + "  flip: true\n"),
                       "/tmp/p.yml:4: unknown key 'flip' in model (known keys: flip_test, heatmap_size, input_size, mean, modulate_kernel, post_process, precision, schema, shift_heatmap, sigma, std, weights)")
        XCTAssertTrue(error(base + "trackng:\n  method: iou\n").hasPrefix("/tmp/p.yml:4: unknown key 'trackng' in pipeline file"))
    }

    func testBadValuesNameFileLineAndReason() {
        XCTAssertEqual(error("model:\n  schema: coco17\n  input_size: [190, 256]\n"),
                       "/tmp/p.yml:3: model.input_size must be [width, height], multiples of 32 within 32…2048 (got [190, 256])")
        XCTAssertEqual(error("model:\n  schema: mpii\n  input_size: [192, 256]\n"),
                       "/tmp/p.yml:2: unknown keypoint schema 'mpii' (known: coco17, posetrack18)")
        XCTAssertEqual(error(base + "temporal:\n  frame_offsets: [0, -1]\n  frame_weights: [1]\n"),
                       "/tmp/p.yml:6: temporal.frame_weights must have 2 values (got 1)")
        XCTAssertEqual(error(base + "temporal:\n  frame_offsets: [-1, 0]\n  frame_weights: [1, 1]\n"),
                       "/tmp/p.yml:5: temporal.frame_offsets must start with 0 (the current frame) and not repeat (got [-1, 0])")
        XCTAssertEqual(error(base + "persons:\n  score_threshold: 1.5\n"),
                       "/tmp/p.yml:5: persons.score_threshold must be between 0 and 1 (got 1.5)")
        XCTAssertEqual(error(base + "tracking:\n  threshold: high\n"), "/tmp/p.yml:5: tracking.threshold must be a number")
        XCTAssertEqual(error(base + "  flip_test: maybe\n"), "/tmp/p.yml:4: model.flip_test must be true or false")
        XCTAssertEqual(error(base + "  sigma: 0\n"), "/tmp/p.yml:4: model.sigma must be a positive number up to 64 (got 0.0)")
        XCTAssertEqual(error("model: [1, 2]\n"), "/tmp/p.yml:1: model must be a mapping of keys to values")
        XCTAssertEqual(error("output:\n  radius: 3\n"), "/tmp/p.yml:1: missing required section 'model'")
        XCTAssertTrue(error("model:\n  schema: [\n").hasPrefix("/tmp/p.yml: not valid YAML: line"))
    }

    func testDetectorSectionIsReadWithRelativeWeightsAndEveryKeyChecked() throws {
        let c = try PipelineFile.parse(base + """
        persons:
          source: detector
          detector:
            weights: models/yolox_s.pth
            input_size: [320, 256]
            channel_order: rgb
            mean: [123.675, 116.28, 103.53]
            std: [58.395, 57.12, 57.375]
            letterbox: center
            pad_value: 0
            resize: bilinear
            score_threshold: 0.5
            nms_threshold: 0.6
            every_n_frames: 5
        """, path: "/x/p.yml")
        XCTAssertEqual(c.persons.source, .detector)
        let d = c.persons.detector
        XCTAssertEqual(d.weights, "/x/models/yolox_s.pth")
        XCTAssertEqual(d.inputSize, [320, 256])
        XCTAssertEqual(d.channelOrder, .rgb)
        XCTAssertEqual(d.mean, [123.675, 116.28, 103.53])
        XCTAssertEqual(d.std, [58.395, 57.12, 57.375])
        XCTAssertEqual(d.letterbox, .center)
        XCTAssertEqual(d.padValue, 0)
        XCTAssertEqual(d.scoreThreshold, 0.5)
        XCTAssertEqual(d.nmsThreshold, 0.6)
        XCTAssertEqual(d.everyNFrames, 5)
        XCTAssertEqual(d.source, "/x/p.yml")
        // Unset keys stay unset: the checkpoint's family and layout give them.
        let bare = try PipelineFile.parse(base + "persons:\n  source: detector\n  detector:\n    weights: /abs/d.pth\n", path: "/x/p.yml")
        XCTAssertEqual(bare.persons.detector.weights, "/abs/d.pth")
        XCTAssertNil(bare.persons.detector.inputSize)
        XCTAssertNil(bare.persons.detector.everyNFrames)

        XCTAssertTrue(error(base + "persons:\n  source: detector\n  detector: {model: rtmdet}\n")
                        .hasPrefix("/tmp/p.yml:6: unknown key 'model' in detector"))
        XCTAssertEqual(error(base + "persons:\n  detector:\n    every_n_frames: 0\n"),
                       "/tmp/p.yml:6: persons.detector.every_n_frames must be at least 1 (got 0)")
        XCTAssertEqual(error(base + "persons:\n  detector:\n    input_size: [100, 64]\n"),
                       "/tmp/p.yml:6: persons.detector.input_size must be [width, height], multiples of 32 within 32…4096 (got [100, 64])")
        XCTAssertEqual(error(base + "persons:\n  detector:\n    channel_order: bgra\n"),
                       "/tmp/p.yml:6: persons.detector.channel_order must be one of bgr, rgb (got 'bgra')")
        XCTAssertEqual(error(base + "persons:\n  detector:\n    resize: bicubic\n"),
                       "/tmp/p.yml:6: persons.detector.resize: only 'bilinear' (OpenCV INTER_LINEAR) is implemented (got 'bicubic')")
    }

    func testDefaultsAndOverrides() throws {
        let c = try PipelineFile.parse(base + "persons:\n  source: whole_frame\n  nms_threshold: 0.5\n  boxes_file: /abs/boxes.json\n", path: "/x/p.yml")
        XCTAssertEqual(c.persons.source, .wholeFrame)
        XCTAssertEqual(c.persons.nmsThreshold, 0.5)
        XCTAssertEqual(c.persons.boxesFile, "/abs/boxes.json")
        XCTAssertEqual(c.model.mean, [0.485, 0.456, 0.406])
        XCTAssertEqual(c.temporal.frameOffsets, [0])
        XCTAssertNil(c.model.weights)
    }

    func testOverlayKeys() throws {
        let plain = try PipelineFile.parse(base, path: "/x/p.yml")
        // No sizes given: the annotated video scales them with the frame.
        XCTAssertNil(plain.output.radius)
        XCTAssertNil(plain.output.thickness)
        XCTAssertEqual(plain.output.label, .id)
        XCTAssertEqual(plain.output.colorBy, .part)
        XCTAssertEqual(plain.output.trails, 0)
        XCTAssertFalse(plain.output.showLow)
        XCTAssertEqual(plain.output.font, LabelFont.defaultPath)
        let c = try PipelineFile.parse(base + "output:\n  radius: 5\n  thickness: 3\n  label: id_score\n  color_by: track\n"
                                       + "  trails: 8\n  show_low: true\n  font: fonts/My.ttf\n", path: "/x/p.yml")
        XCTAssertEqual(c.output.radius, 5)
        XCTAssertEqual(c.output.thickness, 3)
        XCTAssertEqual(c.output.label, .idScore)
        XCTAssertEqual(c.output.colorBy, .track)
        XCTAssertEqual(c.output.trails, 8)
        XCTAssertTrue(c.output.showLow)
        XCTAssertEqual(c.output.font, "/x/fonts/My.ttf")
        XCTAssertEqual(error(base + "output:\n  label: name\n"), "/tmp/p.yml:5: output.label must be one of id, id_score, none (got 'name')")
        XCTAssertEqual(error(base + "output:\n  color_by: person\n"), "/tmp/p.yml:5: output.color_by must be one of part, track (got 'person')")
        XCTAssertEqual(error(base + "output:\n  trails: -1\n"), "/tmp/p.yml:5: output.trails must be 0…300 frames (got -1)")
    }

    /// Findings of Tools/fuzz's PipelineFileFuzz: values whose checks overflowed (a trap in checked
    /// builds, a silently accepted value with -Ounchecked), and nesting deep enough to exhaust the
    /// stack while Yams composes the tree. Each is now a "file:line: reason" error.
    func testFuzzFindingsAreErrorsWithALine() throws {
        XCTAssertEqual(error(base + "  heatmap_size: [4611686018427387928, 32]\n"),
                       "/tmp/p.yml:4: model.heatmap_size must be input_size / 4 for HRNet (expected [48, 64], got [4611686018427387928, 32])")
        XCTAssertEqual(error(base + "temporal:\n  frame_offsets: [0, -9223372036854775808]\n  frame_weights: [1, 1]\n"),
                       "/tmp/p.yml:5: temporal.frame_offsets must lie within ±16 frames (got [0, -9223372036854775808])")
        XCTAssertEqual(error("model:\n  schema: coco17\n  input_size: [4611686018427387904, 256]\n"),
                       "/tmp/p.yml:3: model.input_size must be [width, height], multiples of 32 within 32…2048 (got [4611686018427387904, 256])")
        XCTAssertTrue(error(base + "  modulate_kernel: 100001\n").hasPrefix("/tmp/p.yml:4: model.modulate_kernel must be an odd number within 1…99"))
        XCTAssertTrue(error(base + "temporal:\n  frame_offsets: [0]\n  frame_weights: [1]\n  dilations: [1000000]\n")
            .hasPrefix("/tmp/p.yml:7: temporal.dilations must be integers within 1…256"))
        // YAML 1.1 base-60 integers overflowed inside Yams; numbers are decimal now.
        XCTAssertEqual(error(base + "  heatmap_size: [9223372036854775807:1, 32]\n"), "/tmp/p.yml:4: model.heatmap_size must be a list of integers")
        XCTAssertEqual(error(base + "  sigma: 1:30\n"), "/tmp/p.yml:4: model.sigma must be a number")
        XCTAssertEqual(try PipelineFile.parse(base + "  sigma: 2.5\n  std: [1, .5, 2e-1]\n", path: "/tmp/p.yml").model.std, [1, 0.5, 0.2])
        let flow = "model: " + String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000) + "\n"
        XCTAssertEqual(error(flow), "/tmp/p.yml:1: nested more than 64 levels deep (a pipeline file nests 3)")
        let block = "a:\n" + (0..<3000).map { String(repeating: " ", count: $0) + "- \n" }.joined()
        XCTAssertEqual(error(block), "/tmp/p.yml:65: nested more than 64 levels deep (a pipeline file nests 3)")
        // The detector section's own reader goes through the same check.
        let path = Fixtures.scratch() + "/deep.yml"
        try flow.write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try DetectorSection.load(pipeline: path)) { e in
            XCTAssertEqual("\(e)", "\(path):1: nested more than 64 levels deep (a pipeline file nests 3)")
        }
        // 64 levels are still read (and then refused for what they hold, not for their depth).
        let deepest = "model: " + String(repeating: "[", count: 63) + String(repeating: "]", count: 63) + "\n"
        XCTAssertEqual(error(deepest), "/tmp/p.yml:1: model must be a mapping of keys to values")
    }

    func testMissingFileIsNamed() {
        XCTAssertThrowsError(try PipelineFile.load("/nonexistent/p.yml")) { e in
            XCTAssertTrue("\(e)".hasPrefix("/nonexistent/p.yml: cannot read pipeline file"), "\(e)")
        }
        // `detect` reads only persons.detector, through the same reader: the reason in plain words.
        XCTAssertThrowsError(try DetectorSection.load(pipeline: "/nonexistent/p.yml")) { e in
            XCTAssertEqual("\(e)", "/nonexistent/p.yml: cannot read pipeline file: No such file or directory")
        }
        let empty = Fixtures.scratch() + "/empty.yml"
        FileManager.default.createFile(atPath: empty, contents: Data())
        XCTAssertThrowsError(try DetectorSection.load(pipeline: empty)) { e in XCTAssertEqual("\(e)", "\(empty): the file is empty") }
    }
}
