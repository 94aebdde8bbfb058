import Foundation
import XCTest
@testable import Pipeline

/// `posewarper detect` as users run it, and its boxes fed back to `posewarper run --boxes`.
final class DetectCLITests: XCTestCase {
    static let tinyYOLOX = Fixtures.packageRoot.appendingPathComponent("Tests/DetectorTests/Fixtures/yolox_megvii.pth").path

    private func detections(_ path: String) throws -> [[String: Any]] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [[String: Any]]
    }

    func testDetectWritesCOCODetectionsThatRunReads() throws {
        let dir = Fixtures.scratch()
        let clip = dir + "/clip.mp4"
        try Fixtures.makeVideo(clip, frames: 4)
        let dets = dir + "/dets.json", overlay = dir + "/overlay.mp4"
        let r = try CLITests.run(["detect", clip, "--weights", Self.tinyYOLOX, "--input-size", "96", "64", "--score-threshold", "0.3",
                                  "--boxes-out", dets, "--video", overlay])
        XCTAssertEqual(r.code, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("YOLOX-custom (Megvii layout, 3 classes), 4 frames"), r.stderr)
        let list = try detections(dets)
        XCTAssertFalse(list.isEmpty, "the tiny random detector finds boxes on the test clip")
        for d in list {
            XCTAssertTrue((0..<4).contains(d["image_id"] as! Int))
            XCTAssertEqual(d["category_id"] as? Int, 1)
            XCTAssertEqual((d["bbox"] as! [Double]).count, 4)
            XCTAssertGreaterThanOrEqual(d["score"] as! Double, 0.3)
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: overlay))
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/.dets.json.partial"))
        // Deterministic: a second run gives the same file.
        let again = dir + "/again.json"
        XCTAssertEqual(try CLITests.run(["detect", clip, "--weights", Self.tinyYOLOX, "--input-size", "96", "64",
                                         "--score-threshold", "0.3", "--boxes-out", again, "--threads", "1", "--quiet"]).code, 0)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: dets)), try Data(contentsOf: URL(fileURLWithPath: again)))
        // The file is what `run --boxes` reads.
        let run = try CLITests.run(["run", clip, "--weights", Fixtures.tinyTopDown, "--boxes", dets, "--keypoints", "-", "--quiet"])
        XCTAssertEqual(run.code, 0, run.stderr)
        let persons = run.stdout.split(separator: "\n").dropFirst().map { line -> Int in
            let obj = try! JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            return (obj["persons"] as! [Any]).count
        }
        XCTAssertEqual(persons.count, 4)
        XCTAssertGreaterThan(persons.reduce(0, +), 0)
    }

    /// A second run onto the same --boxes-out replaces the file (it used to delete it and exit 1:
    /// "cannot write: The file doesn't exist"), and leaves no temporary file beside it.
    func testDetectReplacesAnExistingBoxesFile() throws {
        let dir = Fixtures.scratch()
        let clip = dir + "/clip.mp4"
        try Fixtures.makeVideo(clip, frames: 3)
        let dets = dir + "/dets.json"
        try Data("old contents".utf8).write(to: URL(fileURLWithPath: dets))
        for _ in 0..<2 {
            let r = try CLITests.run(["detect", clip, "--weights", Self.tinyYOLOX, "--input-size", "96", "64",
                                      "--score-threshold", "0.3", "--boxes-out", dets, "--quiet"])
            XCTAssertEqual(r.code, 0, r.stderr)
            XCTAssertFalse(try detections(dets).isEmpty)
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir).sorted(), ["clip.mp4", "dets.json"])
    }

    func testPipelineSectionGivesWeightsAndSettings() throws {
        let dir = Fixtures.scratch()
        let clip = dir + "/clip.mp4"
        try Fixtures.makeVideo(clip, frames: 2)
        let yml = dir + "/detector.yml"
        try """
        persons:
          source: detector
          detector:
            weights: \(Self.tinyYOLOX)
            input_size: [96, 64]
            score_threshold: 0.3
        """.write(toFile: yml, atomically: true, encoding: .utf8)
        let a = try CLITests.run(["detect", clip, "--pipeline", yml, "--quiet"])
        XCTAssertEqual(a.code, 0, a.stderr)
        let b = try CLITests.run(["detect", clip, "--weights", Self.tinyYOLOX, "--input-size", "96", "64", "--score-threshold", "0.3", "--quiet"])
        XCTAssertEqual(a.stdout, b.stdout)
        XCTAssertTrue(a.stdout.hasPrefix("[\n{\"image_id\": 0"), a.stdout)

        try "persons:\n  detector:\n    weights: x.pth\n    letterbox: middle\n".write(toFile: yml, atomically: true, encoding: .utf8)
        let bad = try CLITests.run(["detect", clip, "--pipeline", yml])
        XCTAssertEqual(bad.code, 1)
        XCTAssertTrue(bad.stderr.contains("\(yml):4: persons.detector.letterbox must be one of top_left, center (got 'middle')"), bad.stderr)
    }

    func testPoseCheckpointIsRefusedAsDetector() throws {
        let dir = Fixtures.scratch()
        let clip = dir + "/clip.mp4"
        try Fixtures.makeVideo(clip, frames: 1)
        let r = try CLITests.run(["detect", clip, "--weights", Fixtures.tinyTopDown, "--boxes-out", dir + "/d.json"])
        XCTAssertEqual(r.code, 1)
        XCTAssertTrue(r.stderr.contains("\(Fixtures.tinyTopDown): this is an HRNet top-down pose model checkpoint, not a person detector"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/d.json"))
    }
}

/// `posewarper run --detector`: the detector's boxes feed the pose network in the same run.
final class RunWithDetectorCLITests: XCTestCase {
    func testRunWithDetectorUsesTheDetectorsBoxes() throws {
        let dir = Fixtures.scratch()
        let clip = dir + "/clip.mp4"
        try Fixtures.makeVideo(clip, frames: 1, width: 64, height: 64)
        // The tiny detector at its release settings (640 input) on the clip, through `detect` …
        let dets = dir + "/dets.json"
        let d = try CLITests.run(["detect", clip, "--weights", DetectCLITests.tinyYOLOX, "--boxes-out", dets, "--quiet"])
        XCTAssertEqual(d.code, 0, d.stderr)
        let detected = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dets))) as! [[String: Any]]
        XCTAssertFalse(detected.isEmpty)
        // … and inside `run`: one pose per detected box.
        let direct = try CLITests.run(["run", clip, "--weights", Fixtures.tinyTopDown, "--detector", DetectCLITests.tinyYOLOX,
                                       "--keypoints", "-", "--quiet"])
        XCTAssertEqual(direct.code, 0, direct.stderr)
        let lines = direct.stdout.split(separator: "\n")
        XCTAssertEqual(lines.count, 2)   // header + 1 frame
        let frame = try JSONSerialization.jsonObject(with: Data(lines[1].utf8)) as! [String: Any]
        let persons = frame["persons"] as! [[String: Any]]
        XCTAssertEqual(persons.count, detected.count)
        XCTAssertEqual(persons.compactMap { $0["bbox_score"] as? Double }.max()!, detected.map { $0["score"] as! Double }.max()!, accuracy: 1e-5)

        let bad = try CLITests.run(["run", clip, "--weights", Fixtures.tinyTopDown, "--detector", Fixtures.tinyTopDown, "--keypoints", "-"])
        XCTAssertEqual(bad.code, 1)
        XCTAssertTrue(bad.stderr.contains("not a person detector"), bad.stderr)
        let both = try CLITests.run(["run", clip, "--weights", Fixtures.tinyTopDown, "--detector", DetectCLITests.tinyYOLOX,
                                     "--whole-frame", "--keypoints", "-"])
        XCTAssertEqual(both.code, 64)
    }

    func testRunWithPipelineDetectorSectionMatchesDetectorOption() throws {
        let dir = Fixtures.scratch()
        let clip = dir + "/clip.mp4"
        try Fixtures.makeVideo(clip, frames: 3, width: 64, height: 64)
        // Weights relative to the pipeline file.
        try FileManager.default.copyItem(atPath: DetectCLITests.tinyYOLOX, toPath: dir + "/det.pth")
        let yml = dir + "/with-detector.yml"
        let model = "model:\n  schema: coco17\n  input_size: [192, 256]\n  flip_test: true\n"
        try (model + "persons:\n  source: detector\n  detector:\n    weights: det.pth\n    score_threshold: 0.3\n")
            .write(toFile: yml, atomically: true, encoding: .utf8)
        let viaFile = try CLITests.run(["run", clip, "--weights", Fixtures.tinyTopDown, "--pipeline", yml, "--keypoints", "-", "--quiet"])
        XCTAssertEqual(viaFile.code, 0, viaFile.stderr)
        let viaOption = try CLITests.run(["run", clip, "--weights", Fixtures.tinyTopDown, "--detector", DetectCLITests.tinyYOLOX,
                                          "--keypoints", "-", "--quiet"])
        XCTAssertEqual(viaOption.code, 0, viaOption.stderr)
        let frames = { (out: String) in Array(out.split(separator: "\n").dropFirst()) }
        XCTAssertEqual(frames(viaFile.stdout).count, 3)
        XCTAssertEqual(frames(viaFile.stdout), frames(viaOption.stdout))
        XCTAssertTrue(frames(viaFile.stdout).contains { $0.contains("bbox_score") }, "the detector found persons")

        // The section's settings apply: a threshold no box reaches leaves every frame empty.
        try (model + "persons:\n  source: detector\n  detector:\n    weights: det.pth\n    input_size: [96, 64]\n    score_threshold: 1\n")
            .write(toFile: yml, atomically: true, encoding: .utf8)
        let none = try CLITests.run(["run", clip, "--weights", Fixtures.tinyTopDown, "--pipeline", yml, "--keypoints", "-", "--quiet"])
        XCTAssertEqual(none.code, 0, none.stderr)
        XCTAssertFalse(none.stdout.contains("bbox_score"), none.stdout)

        // every_n_frames runs end to end.
        try (model + "persons:\n  source: detector\n  detector:\n    weights: det.pth\n    input_size: [96, 64]\n    every_n_frames: 2\n")
            .write(toFile: yml, atomically: true, encoding: .utf8)
        let sparse = try CLITests.run(["run", clip, "--weights", Fixtures.tinyTopDown, "--pipeline", yml, "--keypoints", "-"])
        XCTAssertEqual(sparse.code, 0, sparse.stderr)
        XCTAssertEqual(frames(sparse.stdout).count, 3)
        XCTAssertTrue(sparse.stderr.contains("(detector on 2 frames, keypoint boxes on 1)"), sparse.stderr)

        // No weights anywhere: refused before any output is written.
        try (model + "persons:\n  source: detector\n  detector:\n    every_n_frames: 2\n").write(toFile: yml, atomically: true, encoding: .utf8)
        let out = dir + "/k.jsonl"
        let missing = try CLITests.run(["run", clip, "--weights", Fixtures.tinyTopDown, "--pipeline", yml, "--keypoints", out])
        XCTAssertEqual(missing.code, 1)
        XCTAssertTrue(missing.stderr.contains("\(yml): persons.source is detector but persons.detector.weights is not set"), missing.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))

        // The pipeline's detector weights are an input: no output may replace them.
        try (model + "persons:\n  source: detector\n  detector:\n    weights: det.pth\n").write(toFile: yml, atomically: true, encoding: .utf8)
        let clash = try CLITests.run(["run", clip, "--weights", Fixtures.tinyTopDown, "--pipeline", yml, "--keypoints", dir + "/det.pth"])
        XCTAssertEqual(clash.code, 2, clash.stderr)
        XCTAssertTrue(clash.stderr.contains("would replace the input"), clash.stderr)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: dir + "/det.pth")),
                       try Data(contentsOf: URL(fileURLWithPath: DetectCLITests.tinyYOLOX)))
    }
}
