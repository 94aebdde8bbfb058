import Foundation
import Keypoints
import Video
import XCTest
@testable import Pipeline

/// `posewarper run` as users run it: the built binary in a child process.
final class CLITests: XCTestCase {
    /// The `posewarper` executable built next to this test bundle (`make test` builds it first).
    static let binary: String? = {
        let here = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for dir in [here, here.deletingLastPathComponent(), Fixtures.packageRoot.appendingPathComponent(".build/release")] {
            let path = dir.appendingPathComponent("posewarper").path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }()

    static func launch(_ args: [String], stdout: Any? = nil, stdin: Any? = nil) throws -> (Process, Pipe) {
        guard let binary = Self.binary else { throw XCTSkip("the posewarper executable is not built (make test builds it)") }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = args
        let err = Pipe()
        p.standardError = err
        p.standardOutput = stdout ?? FileHandle.nullDevice
        if let stdin { p.standardInput = stdin }
        try p.run()
        return (p, err)
    }

    /// Runs the binary to completion: exit status, stdout and stderr.
    static func run(_ args: [String]) throws -> (code: Int32, stdout: String, stderr: String) {
        let out = Pipe()
        let (p, err) = try launch(args, stdout: out)
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }

    func launch(_ args: [String], stdout: Any? = nil) throws -> (Process, Pipe) { try Self.launch(args, stdout: stdout) }
    func run(_ args: [String]) throws -> (code: Int32, stdout: String, stderr: String) { try Self.run(args) }

    func testKeypointsToStdoutWithTheHeaderFirst() throws {
        let dir = Fixtures.scratch()
        try Fixtures.makeVideo(dir + "/clip.mp4", frames: 5)
        let r = try run(["run", dir + "/clip.mp4", "--pipeline", try Fixtures.tinyPipeline(in: dir), "--whole-frame", "--keypoints", "-"])
        XCTAssertEqual(r.code, 0, r.stderr)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 6)
        guard case .header = try KeypointStream.decode(line: lines[0]) else { return XCTFail("no header line") }
        for (i, line) in lines.dropFirst().enumerated() {
            guard case let .frame(f) = try KeypointStream.decode(line: line) else { return XCTFail("line \(i + 2)") }
            XCTAssertEqual(f.frame, i)
        }
        XCTAssertFalse(r.stderr.contains("frame 1/"), "no progress line when stderr is not a terminal")
    }

    /// On a terminal, stderr carries a progress line (via util-linux `script`, skipped without it).
    func testProgressLineOnlyOnATerminal() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/script"), let binary = Self.binary else {
            throw XCTSkip("needs /usr/bin/script and the built binary")
        }
        let dir = Fixtures.scratch()
        try Fixtures.makeVideo(dir + "/clip.mp4", frames: 8)
        let command = "\(binary) run \(dir)/clip.mp4 --pipeline \(try Fixtures.tinyPipeline(in: dir)) --whole-frame --keypoints \(dir)/k.jsonl"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/script")
        p.arguments = ["-qec", command, "/dev/null"]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, text)
        XCTAssertTrue(text.contains("frame 8/8"), text)
        XCTAssertTrue(text.contains("ETA"), text)
        let quiet = try run(["run", dir + "/clip.mp4", "--pipeline", try Fixtures.tinyPipeline(in: dir), "--whole-frame",
                             "--keypoints", dir + "/k2.jsonl", "--quiet"])
        XCTAssertEqual(quiet.stderr, "", "--quiet and no terminal: nothing on stderr")
    }

    /// `posewarper run … --keypoints - | head -1`: the reader goes away, the run ends quietly with 0.
    func testClosedStdoutEndsQuietlyWithSuccess() throws {
        let dir = Fixtures.scratch()
        try Fixtures.makeVideo(dir + "/clip.mp4", frames: 300, width: 64, height: 48)
        let out = Pipe()
        let (p, err) = try launch(["run", dir + "/clip.mp4", "--pipeline", try Fixtures.tinyPipeline(in: dir), "--whole-frame",
                                   "--keypoints", "-", "--coco", dir + "/coco.json"], stdout: out)
        // Read the first line only (as head -1 does), then close the pipe.
        var first = Data()
        while !first.contains(UInt8(ascii: "\n")) {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            first.append(chunk)
        }
        try out.fileHandleForReading.close()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertTrue(String(decoding: first, as: UTF8.self).hasPrefix("{\"schema\""))
        XCTAssertEqual(p.terminationStatus, 0, stderr)
        XCTAssertEqual(p.terminationReason, .exit, "killed by SIGPIPE")
        XCTAssertFalse(stderr.contains("error") || stderr.contains("failed"), stderr)
        // A COCO file of the first frames would look complete: it is not produced, and stderr says so.
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/coco.json"))
        XCTAssertTrue(stderr.contains("coco.json not written"), stderr)
    }

    /// Ctrl-C: the run stops, the stream and the video are valid and hold the same frames, the COCO
    /// and PoseTrack files (which need every frame) are not produced, exit code 130.
    func testInterruptFinishesEveryOutputUpToTheLastFrame() throws {
        let dir = Fixtures.scratch()
        try Fixtures.makeVideo(dir + "/long.mp4", frames: 1500, width: 64, height: 48)
        let jsonl = dir + "/k.jsonl", coco = dir + "/coco.json", pt = dir + "/pt.json", video = dir + "/out.mp4"
        let (p, err) = try launch(["run", dir + "/long.mp4", "--pipeline", try Fixtures.tinyPipeline(in: dir), "--whole-frame",
                                   "--threads", "1", "--keypoints", jsonl, "--coco", coco, "--posetrack", pt, "--video", video])
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let text = (try? String(contentsOfFile: jsonl, encoding: .utf8)) ?? ""
            if text.split(separator: "\n").count >= 12 { break }
            Thread.sleep(forTimeInterval: 0.01)
        }
        XCTAssertTrue(p.isRunning, "the run finished before it could be interrupted; make the clip longer")
        p.interrupt()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 130, stderr)
        XCTAssertTrue(stderr.contains("interrupted"), stderr)

        let stream = try KeypointStream.read(path: jsonl)
        let n = stream.frames.count
        XCTAssertGreaterThanOrEqual(n, 11)
        XCTAssertLessThan(n, 1500)
        XCTAssertEqual(stream.frames.map(\.frame), Array(0..<n))
        XCTAssertFalse(FileManager.default.fileExists(atPath: coco))
        XCTAssertFalse(FileManager.default.fileExists(atPath: pt))
        XCTAssertTrue(stderr.contains("not written: the run was stopped after \(n) frames"), stderr)
        let reader = try VideoReader(video)
        var frames = 0
        while try reader.next() != nil { frames += 1 }
        XCTAssertEqual(frames, n)
        XCTAssertNil(reader.stopReason)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix(".") }
        XCTAssertEqual(leftovers, [], "temporary files left behind")
    }

    func testBadInputsExitWithOneAndNameTheProblem() throws {
        let dir = Fixtures.scratch()
        let pipeline = try Fixtures.tinyPipeline(in: dir)
        var r = try run(["run", dir + "/missing.mp4", "--pipeline", pipeline, "--whole-frame", "--keypoints", "-"])
        XCTAssertEqual(r.code, 1)
        XCTAssertTrue(r.stderr.contains("\(dir)/missing.mp4"), r.stderr)
        XCTAssertEqual(r.stdout, "")

        try "model:\n  schema: coco17\n  input_size: [192, 256]\n  flip: true\n".write(toFile: dir + "/bad.yml", atomically: true, encoding: .utf8)
        try Fixtures.makeVideo(dir + "/clip.mp4", frames: 2)
        r = try run(["run", dir + "/clip.mp4", "--pipeline", dir + "/bad.yml", "--whole-frame", "--keypoints", "-"])
        XCTAssertEqual(r.code, 1)
        XCTAssertTrue(r.stderr.contains("\(dir)/bad.yml:4: unknown key 'flip' in model"), r.stderr)

        r = try run(["run", dir + "/clip.mp4", "--pipeline", pipeline, "--keypoints", "-", "--boxes", dir + "/nope.json"])
        XCTAssertEqual(r.code, 1)
        XCTAssertTrue(r.stderr.contains("\(dir)/nope.json: cannot read boxes file"), r.stderr)

        r = try run(["run", dir + "/clip.mp4", "--pipeline", pipeline, "--whole-frame", "--video", dir + "/out.avi"])
        XCTAssertEqual(r.code, 2, "an output that cannot be written")
        XCTAssertTrue(r.stderr.contains("out.avi"), r.stderr)

        r = try run(["run", dir + "/clip.mp4", "--pipeline", pipeline, "--whole-frame"])
        XCTAssertEqual(r.code, 64, "usage errors keep ArgumentParser's code")
        XCTAssertTrue(r.stderr.contains("nothing to write"), r.stderr)
    }

    /// The COCO results load in pycocotools (skipped when python3 or pycocotools is missing).
    func testCOCOResultsLoadInPycocotools() throws {
        let check = Process()
        check.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        check.arguments = ["python3", "-c", "import pycocotools"]
        check.standardError = FileHandle.nullDevice
        guard (try? check.run()) != nil else { throw XCTSkip("python3 not found") }
        check.waitUntilExit()
        guard check.terminationStatus == 0 else { throw XCTSkip("pycocotools is not installed") }

        let dir = Fixtures.scratch()
        try Fixtures.makeVideo(dir + "/clip.mp4", frames: 4)
        let r = try run(["run", dir + "/clip.mp4", "--pipeline", try Fixtures.tinyPipeline(in: dir), "--whole-frame", "--coco", dir + "/coco.json"])
        XCTAssertEqual(r.code, 0, r.stderr)
        let script = """
        import json, sys
        from pycocotools.coco import COCO
        gt = COCO()
        gt.dataset = {"images": [{"id": i, "width": 96, "height": 80} for i in range(4)],
                      "annotations": [], "categories": [{"id": 1, "name": "person"}]}
        gt.createIndex()
        res = gt.loadRes(sys.argv[1])
        print(len(res.getAnnIds()), sorted(res.getImgIds()))
        """
        let py = Process()
        py.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        py.arguments = ["python3", "-c", script, dir + "/coco.json"]
        let out = Pipe()
        py.standardOutput = out
        try py.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        py.waitUntilExit()
        XCTAssertEqual(py.terminationStatus, 0)
        XCTAssertTrue(text.contains("4 [0, 1, 2, 3]"), text)
    }
}
