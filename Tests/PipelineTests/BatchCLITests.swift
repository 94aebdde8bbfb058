import Foundation
import Keypoints
import XCTest
@testable import Pipeline
@testable import Video

/// `posewarper run` over many inputs and segments, and `posewarper merge`, as users run them.
final class BatchCLITests: XCTestCase {
    func run(_ args: [String]) throws -> (code: Int32, stdout: String, stderr: String) { try CLITests.run(args) }

    /// A clip with three persons (one leaves, one arrives) in 1, 3 and 7 segments with every output,
    /// each merged: keypoints, COCO and PoseTrack byte for byte the single run's — track ids
    /// reconciled across the borders — and the video joined by stream copy with the single run's timing.
    func testSegmentsMergeToTheSingleRunsOutputs() throws {
        let dir = Fixtures.scratch()
        let clip = dir + "/000042_clip.mp4"
        try Fixtures.makeVideo(clip, frames: 15, width: 64, height: 48)
        // A throughout, C in frames 2..<6, B in 3..<12: segment 10..<15 of 3 sees A and B only, so its
        // own ids (0, 1) differ from the single run's (0, 2).
        var boxes: [[String: Any]] = []
        for t in 0..<15 {
            let id = 10_000_420_000 + t
            boxes.append(["image_id": id, "bbox": [2 + t, 2, 16, 30], "score": 0.9, "category_id": 1])
            if (2..<6).contains(t) { boxes.append(["image_id": id, "bbox": [44, 4, 14, 20], "score": 0.8, "category_id": 1]) }
            if (3..<12).contains(t) { boxes.append(["image_id": id, "bbox": [30, 20, 12, 26], "score": 0.7, "category_id": 1]) }
        }
        try JSONSerialization.data(withJSONObject: boxes).write(to: URL(fileURLWithPath: dir + "/boxes.json"))
        let common = ["--pipeline", try Fixtures.tinyPipeline(in: dir), "--boxes", dir + "/boxes.json", "--quiet"]
        func outputs(_ stem: String) -> [String] {
            ["--keypoints", "\(stem).jsonl", "--coco", "\(stem).coco.json", "--posetrack", "\(stem).pt.json", "--video", "\(stem).mp4"]
        }
        let single = try run(["run", clip] + outputs(dir + "/single") + common)
        XCTAssertEqual(single.code, 0, single.stderr)
        func bytes(_ path: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path)) }
        let singleVideo = try packets(in: dir + "/single.mp4", audio: false)
        for n in [1, 3, 7] {
            for i in 0..<n {
                let r = try run(["run", clip, "--segment", "\(i)/\(n)"] + outputs(dir + "/part\(n)-{segment}") + common)
                XCTAssertEqual(r.code, 0, r.stderr)
            }
            // Given in reverse: the headers order them.
            let m = try run(["merge"] + (0..<n).reversed().map { dir + "/part\(n)-\($0).jsonl" } + outputs(dir + "/merged\(n)"))
            XCTAssertEqual(m.code, 0, m.stderr)
            for ext in ["jsonl", "coco.json", "pt.json"] {
                XCTAssertEqual(try bytes(dir + "/merged\(n).\(ext)"), try bytes(dir + "/single.\(ext)"), "\(n) segments: .\(ext)")
            }
            // The video: the parts' packets unchanged, one after the other, at the single run's times.
            let joined = try packets(in: dir + "/merged\(n).mp4", audio: false)
            let parts = try (0..<n).flatMap { try packets(in: dir + "/part\(n)-\($0).mp4", audio: false) }
            XCTAssertEqual(joined.map(\.bytes), parts.map(\.bytes), "\(n) segments: stream copy")
            XCTAssertEqual(joined.map(\.seconds).sorted(), singleVideo.map(\.seconds).sorted(), "\(n) segments: timing")
            XCTAssertEqual(joined.count, 15)
            if n == 3 { XCTAssertTrue(m.stderr.contains("the video shows each segment's own track ids"), m.stderr) }
        }
        let poseTrack = try JSONSerialization.jsonObject(with: bytes(dir + "/merged3.pt.json")) as! [String: Any]
        XCTAssertEqual(Set((poseTrack["annotations"] as! [[String: Any]]).map { $0["track_id"] as! Int }), [0, 1, 2])
        XCTAssertEqual((poseTrack["images"] as! [[String: Any]]).map { $0["nframes"] as! Int }, Array(repeating: 15, count: 15))

        // A missing segment, a repeated one, parts of two runs: refused naming the frames; nothing is written.
        func refused(_ parts: [String], _ needle: String, line: UInt = #line) throws {
            let r = try run(["merge"] + parts.map { dir + "/" + $0 } + outputs(dir + "/refused"))
            XCTAssertEqual(r.code, 1, r.stderr, line: line)
            XCTAssertTrue(r.stderr.contains(needle), r.stderr, line: line)
            for ext in ["jsonl", "coco.json", "pt.json", "mp4"] {
                XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/refused.\(ext)"), ext, line: line)
            }
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.contains("partial") }, [], line: line)
        }
        try refused(["part3-0.jsonl", "part3-2.jsonl"], "frames 5..<10 of 15 are in no part given")
        try refused(["part3-0.jsonl", "part3-1.jsonl", "part3-1.jsonl", "part3-2.jsonl"], "both segment 1/3")
        try refused(["part3-0.jsonl", "part7-1.jsonl"], "not of one run")
        // A whole run's stream is not a part.
        try refused(["single.jsonl"], "not a segment's keypoint stream")
        // The parts moved together to another folder are found there; a companion file of another
        // segment or run is refused.
        try FileManager.default.createDirectory(atPath: dir + "/moved", withIntermediateDirectories: true)
        for i in 0..<3 {
            for ext in ["jsonl", "coco.json", "pt.json", "mp4"] {
                try FileManager.default.copyItem(atPath: dir + "/part3-\(i).\(ext)", toPath: dir + "/moved/part3-\(i).\(ext)")
            }
        }
        let moved = (0..<3).map { "moved/part3-\($0).jsonl" }
        let ok = try run(["merge"] + moved.map { dir + "/" + $0 } + ["--coco", dir + "/moved.coco.json", "--quiet"])
        XCTAssertEqual(ok.code, 0, ok.stderr)
        XCTAssertEqual(try bytes(dir + "/moved.coco.json"), try bytes(dir + "/single.coco.json"))
        try FileManager.default.removeItem(atPath: dir + "/moved/part3-1.coco.json")
        try FileManager.default.copyItem(atPath: dir + "/part3-0.coco.json", toPath: dir + "/moved/part3-1.coco.json")
        try refused(moved, "moved/part3-1.coco.json: holds 10 entries, but \(dir)/moved/part3-1.jsonl has 11 persons")
        try FileManager.default.removeItem(atPath: dir + "/moved/part3-1.coco.json")
        try FileManager.default.copyItem(atPath: dir + "/part3-1.coco.json", toPath: dir + "/moved/part3-1.coco.json")
        try FileManager.default.removeItem(atPath: dir + "/moved/part3-1.mp4")
        try FileManager.default.copyItem(atPath: dir + "/part7-1.mp4", toPath: dir + "/moved/part3-1.mp4")
        try refused(moved, "moved/part3-1.mp4: holds 2 frames, but its segment has 5")
        try FileManager.default.removeItem(atPath: dir + "/moved/part3-1.mp4")
        try refused(moved, "moved/part3-1.mp4: no such file")
    }

    /// With many inputs the segments split the frames of the whole list: each task gets about the
    /// same work, across input boundaries; a broken input fails one task only; merge groups the parts
    /// by input and gives each input's single-run outputs.
    func testSegmentsSplitTheWholeInputList() throws {
        let dir = Fixtures.scratch()
        for sub in ["videos", "out"] { try FileManager.default.createDirectory(atPath: dir + "/" + sub, withIntermediateDirectories: true) }
        try Fixtures.makeVideo(dir + "/videos/a.mp4", frames: 5, width: 64, height: 48)
        try Data("not a video".utf8).write(to: URL(fileURLWithPath: dir + "/videos/b.mp4"))
        try Fixtures.makeVideo(dir + "/videos/c.mp4", frames: 7, width: 64, height: 48)
        let common = [dir + "/videos", "--pipeline", try Fixtures.tinyPipeline(in: dir), "--whole-frame"]
        let single = try run(["run"] + common + ["--keypoints", dir + "/out/single-{stem}.jsonl", "--coco", dir + "/out/single-{stem}.json", "--quiet"])
        XCTAssertEqual(single.code, 1, single.stderr)
        // 12 frames in 3 segments: 0..<4 (a 0..<4), 4..<8 (a 4..<5, b, c 0..<3), 8..<12 (c 3..<7).
        var codes: [Int32] = []
        for i in 0..<3 {
            let r = try run(["run"] + common + ["--segment", "\(i)/3", "--keypoints", dir + "/out/{stem}-{segment}.jsonl",
                                                 "--coco", dir + "/out/{stem}-{segment}.json", "--video", dir + "/out/{stem}-{segment}.mp4"])
            codes.append(r.code)
            XCTAssertEqual(r.stderr.contains("b.mp4: "), i == 1, "only segment 1 reports the broken input: \(r.stderr)")
            if i == 1 { XCTAssertTrue(r.stderr.contains("segment 1/3: 3 of 3 inputs: 2 done, 1 bad input"), r.stderr) }
            if i == 0 { XCTAssertTrue(r.stderr.contains("segment 0/3 (frames 0..<4 of 5)"), r.stderr) }
        }
        XCTAssertEqual(codes, [0, 1, 0])
        let parts = ["a-0", "a-1", "c-1", "c-2"]
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir + "/out").filter { $0.hasSuffix(".jsonl") && !$0.hasPrefix("single") }.sorted(),
                       parts.map { $0 + ".jsonl" })
        let m = try run(["merge"] + parts.map { dir + "/out/\($0).jsonl" } + ["--keypoints", dir + "/out/merged-{stem}.jsonl",
                                                                                 "--coco", dir + "/out/merged-{stem}.json", "--video", dir + "/out/merged-{name}"])
        XCTAssertEqual(m.code, 0, m.stderr)
        XCTAssertTrue(m.stderr.contains("2 inputs: 2 merged"), m.stderr)
        for (stem, frames) in [("a", 5), ("c", 7)] {
            for ext in ["jsonl", "json"] {
                XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: dir + "/out/merged-\(stem).\(ext)")),
                               try Data(contentsOf: URL(fileURLWithPath: dir + "/out/single-\(stem).\(ext)")), "\(stem).\(ext)")
            }
            XCTAssertEqual(try packets(in: dir + "/out/merged-\(stem).mp4", audio: false).count, frames)
        }
        // Several inputs' parts need outputs named per input.
        let plain = try run(["merge"] + parts.map { dir + "/out/\($0).jsonl" } + ["--keypoints", dir + "/out/all.jsonl"])
        XCTAssertEqual(plain.code, 2, plain.stderr)
        XCTAssertTrue(plain.stderr.contains("name the outputs with {stem} or {name}"), plain.stderr)
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
        let noStream = try run(["run", dir + "/clip.mp4", "--pipeline", try Fixtures.tinyPipeline(in: dir), "--whole-frame", "--segment", "0/2",
                                "--coco", dir + "/c.json"])
        XCTAssertEqual(noStream.code, 64)
        XCTAssertTrue(noStream.stderr.contains("add --keypoints"), noStream.stderr)
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

    /// `make cluster-demo`'s script: 3 processes over the segments of Samples/walker.mp4, every output
    /// merged, equal to the single run's (the script compares stream, COCO and PoseTrack byte for byte).
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
        // The joined video: every frame at the single run's times, and the single run's audio, packet for packet.
        let joined = try packets(in: dir + "/merged.mp4", audio: false), single = try packets(in: dir + "/single.mp4", audio: false)
        XCTAssertEqual(joined.count, 100)
        XCTAssertEqual(joined.map(\.seconds).sorted(), single.map(\.seconds).sorted())
        let joinedAudio = try packets(in: dir + "/merged.mp4", audio: true), singleAudio = try packets(in: dir + "/single.mp4", audio: true)
        XCTAssertGreaterThan(singleAudio.count, 0)
        XCTAssertEqual(joinedAudio.map(\.bytes), singleAudio.map(\.bytes))
        for (a, b) in zip(joinedAudio, singleAudio) { XCTAssertEqual(a.seconds, b.seconds, accuracy: 1e-6) }
    }
}
