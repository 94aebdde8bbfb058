import Foundation
import Keypoints
import XCTest
@testable import Pipeline

/// `posewarper run` over many inputs and segments, and `posewarper merge`, as users run them.
final class BatchCLITests: XCTestCase {
    func run(_ args: [String]) throws -> (code: Int32, stdout: String, stderr: String) { try CLITests.run(args) }

    /// A clip in 1, 3 and 7 segments, each merged: byte for byte the single run's stream.
    func testSegmentsMergeToTheSingleRunsStream() throws {
        let dir = Fixtures.scratch()
        try Fixtures.makeVideo(dir + "/clip.mp4", frames: 15, width: 64, height: 48)
        let pipeline = try Fixtures.tinyPipeline(in: dir)
        let common = ["--pipeline", pipeline, "--whole-frame", "--quiet"]
        let single = try run(["run", dir + "/clip.mp4", "--keypoints", dir + "/single.jsonl"] + common)
        XCTAssertEqual(single.code, 0, single.stderr)
        let expected = try Data(contentsOf: URL(fileURLWithPath: dir + "/single.jsonl"))
        for n in [1, 3, 7] {
            for i in 0..<n {
                let r = try run(["run", dir + "/clip.mp4", "--segment", "\(i)/\(n)", "--keypoints", dir + "/part\(n)-{segment}.jsonl"] + common)
                XCTAssertEqual(r.code, 0, r.stderr)
            }
            // Given in reverse: the headers order them.
            let m = try run(["merge"] + (0..<n).reversed().map { dir + "/part\(n)-\($0).jsonl" } + ["--keypoints", dir + "/merged\(n).jsonl"])
            XCTAssertEqual(m.code, 0, m.stderr)
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: dir + "/merged\(n).jsonl")), expected, "\(n) segments")
        }
        // A missing segment and a repeated one are refused, naming the frames; nothing is written.
        let gap = try run(["merge", dir + "/part3-0.jsonl", dir + "/part3-2.jsonl", "--keypoints", dir + "/gap.jsonl"])
        XCTAssertEqual(gap.code, 1, gap.stderr)
        XCTAssertTrue(gap.stderr.contains("segment 1/3 is missing: frames 5..<10"), gap.stderr)
        let twice = try run(["merge", dir + "/part3-0.jsonl", dir + "/part3-1.jsonl", dir + "/part3-1.jsonl", dir + "/part3-2.jsonl",
                             "--keypoints", dir + "/twice.jsonl"])
        XCTAssertEqual(twice.code, 1, twice.stderr)
        XCTAssertTrue(twice.stderr.contains("both segment 1/3"), twice.stderr)
        let mixed = try run(["merge", dir + "/part3-0.jsonl", dir + "/part7-1.jsonl", "--keypoints", dir + "/mixed.jsonl"])
        XCTAssertEqual(mixed.code, 1, mixed.stderr)
        XCTAssertTrue(mixed.stderr.contains("not of one run"), mixed.stderr)
        for f in ["gap", "twice", "mixed"] { XCTAssertFalse(FileManager.default.fileExists(atPath: "\(dir)/\(f).jsonl")) }
        // A whole run's stream is not a part.
        let whole = try run(["merge", dir + "/single.jsonl", "--keypoints", dir + "/w.jsonl"])
        XCTAssertEqual(whole.code, 1)
        XCTAssertTrue(whole.stderr.contains("not a segment's keypoint stream"), whole.stderr)
    }

    func testSegmentErrors() throws {
        let dir = Fixtures.scratch()
        try Fixtures.makeVideo(dir + "/clip.mp4", frames: 4, width: 64, height: 48)
        let base = ["run", dir + "/clip.mp4", "--pipeline", try Fixtures.tinyPipeline(in: dir), "--whole-frame", "--keypoints", dir + "/k.jsonl"]
        let outOfRange = try run(base + ["--segment", "3/3"])
        XCTAssertEqual(outOfRange.code, 64)
        XCTAssertTrue(outOfRange.stderr.contains("within 0…2"), outOfRange.stderr)
        let withStart = try run(base + ["--segment", "0/2", "--start", "1"])
        XCTAssertEqual(withStart.code, 64)
        let tooMany = try run(base + ["--segment", "0/6"])
        XCTAssertEqual(tooMany.code, 1, tooMany.stderr)
        XCTAssertTrue(tooMany.stderr.contains("segment 0/6 is empty: the input has 4 frames"), tooMany.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/k.jsonl"))
    }

    /// A folder of videos with one broken file: the others are done, the broken one is reported,
    /// the exit code says bad input; an --inputs list names inputs the same way.
    func testBatchGoesOnPastABrokenInput() throws {
        let dir = Fixtures.scratch()
        try FileManager.default.createDirectory(atPath: dir + "/videos", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: dir + "/out", withIntermediateDirectories: true)
        try Fixtures.makeVideo(dir + "/videos/a.mp4", frames: 3, width: 64, height: 48)
        try Data("not a video".utf8).write(to: URL(fileURLWithPath: dir + "/videos/b.mp4"))
        try Fixtures.makeVideo(dir + "/videos/c.mp4", frames: 4, width: 64, height: 48)
        let pipeline = try Fixtures.tinyPipeline(in: dir)
        let r = try run(["run", dir + "/videos", "--pipeline", pipeline, "--whole-frame", "--keypoints", dir + "/out/{stem}.jsonl",
                         "--coco", dir + "/out/{index}-{name}.json"])
        XCTAssertEqual(r.code, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("[2/3] \(dir)/videos/b.mp4: "), r.stderr)
        XCTAssertTrue(r.stderr.contains("3 inputs: 2 done, 1 bad input, 0 failed"), r.stderr)
        XCTAssertEqual(try KeypointStream.read(path: dir + "/out/a.jsonl").frames.count, 3)
        XCTAssertEqual(try KeypointStream.read(path: dir + "/out/c.jsonl").frames.count, 4)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/out/2-c.mp4.json"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/out/b.jsonl"))

        try "# the good ones\n\(dir)/videos/a.mp4\n\n\(dir)/videos/c.mp4\n".write(toFile: dir + "/list.txt", atomically: true, encoding: .utf8)
        let listed = try run(["run", "--inputs", dir + "/list.txt", "--pipeline", pipeline, "--whole-frame",
                              "--keypoints", dir + "/out/listed-{index}.jsonl"])
        XCTAssertEqual(listed.code, 0, listed.stderr)
        XCTAssertEqual(try KeypointStream.read(path: dir + "/out/listed-1.jsonl").frames.count, 4)
        let globbed = try run(["run", dir + "/videos/[ac].mp4", "--pipeline", pipeline, "--whole-frame", "--keypoints", dir + "/out/g-{stem}.jsonl"])
        XCTAssertEqual(globbed.code, 0, globbed.stderr)
        XCTAssertTrue(globbed.stderr.contains("2 inputs: 2 done"), globbed.stderr)
    }

    /// Outputs of many inputs need templates, and templates that give two inputs one file are refused
    /// before any work.
    func testTemplatesRequiredAndCollisionsRefusedBeforeWork() throws {
        let dir = Fixtures.scratch()
        for sub in ["x", "y"] {
            try FileManager.default.createDirectory(atPath: "\(dir)/\(sub)", withIntermediateDirectories: true)
            try Fixtures.makeVideo("\(dir)/\(sub)/clip.mp4", frames: 2, width: 64, height: 48)
        }
        let pipeline = try Fixtures.tinyPipeline(in: dir)
        let inputs = [dir + "/x/clip.mp4", dir + "/y/clip.mp4"]
        let plain = try run(["run"] + inputs + ["--pipeline", pipeline, "--whole-frame", "--keypoints", dir + "/k.jsonl"])
        XCTAssertEqual(plain.code, 2)
        XCTAssertTrue(plain.stderr.contains("2 inputs need an output template"), plain.stderr)
        let same = try run(["run"] + inputs + ["--pipeline", pipeline, "--whole-frame", "--keypoints", dir + "/{stem}.jsonl"])
        XCTAssertEqual(same.code, 2)
        XCTAssertTrue(same.stderr.contains("name the same file"), same.stderr)
        let intoInput = try run(["run"] + inputs + ["--pipeline", pipeline, "--whole-frame", "--keypoints", dir + "/x/{name}"])
        XCTAssertEqual(intoInput.code, 2)
        XCTAssertTrue(intoInput.stderr.contains("would replace the input"), intoInput.stderr)
        let names = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        XCTAssertEqual(names, ["pipeline.yml", "x", "y"], "nothing written")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir + "/x"), ["clip.mp4"])
    }

    /// `make cluster-demo`'s script: 3 processes over the segments of Samples/walker.mp4, merged, equal
    /// to the single run (the script compares them byte for byte).
    func testClusterDemoMergesToTheSingleRun() throws {
        guard let binary = CLITests.binary else { throw XCTSkip("the posewarper executable is not built (make test builds it)") }
        let dir = Fixtures.scratch()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["Samples/cluster/cluster-demo.sh"]
        p.currentDirectoryURL = Fixtures.packageRoot
        p.environment = ProcessInfo.processInfo.environment.merging(["POSEWARPER": binary, "N": "3", "OUT": dir]) { $1 }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, stdout + stderr)
        XCTAssertTrue(stdout.contains("3 segments merged"), stdout)
        let merged = try KeypointStream.read(path: dir + "/merged.jsonl")
        XCTAssertEqual(merged.frames.map(\.frame), Array(0..<100))
        XCTAssertNil(merged.header?.segment)
        XCTAssertEqual(try KeypointStream.read(path: dir + "/part-2.jsonl").header?.segment?.start, 66)
    }
}
