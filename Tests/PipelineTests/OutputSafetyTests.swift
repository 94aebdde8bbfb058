import Failures
import Foundation
import Keypoints
import XCTest
@testable import Pipeline
@testable import Video

/// Nothing lost, nothing overwritten: every output checked before any work, written through
/// temporary files, and COCO / PoseTrack files produced only by complete runs (`posewarper run`).
final class OutputSafetyTests: XCTestCase {
    func run(_ args: [String]) throws -> (code: Int32, stdout: String, stderr: String) { try CLITests.run(args) }

    static func bytes(_ path: String) -> Data? { FileManager.default.contents(atPath: path) }

    /// Hidden temporary files left in `dir`.
    static func debris(_ dir: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasPrefix(".") }
    }

    func testRunNeverReplacesItsOwnInputs() throws {
        let dir = Fixtures.scratch()
        let pipeline = try Fixtures.tinyPipeline(in: dir)
        let input = dir + "/x.mp4"
        try Fixtures.makeVideo(input, frames: 3)
        let original = Self.bytes(input)
        for flag in ["--keypoints", "--video", "--coco"] {
            let r = try run(["run", input, "--pipeline", pipeline, "--whole-frame", flag, input])
            XCTAssertEqual(r.code, ExitStatus.failed, flag + ": " + r.stderr)
            XCTAssertTrue(r.stderr.contains("would replace the input"), r.stderr)
            XCTAssertEqual(Self.bytes(input), original, "\(flag) replaced the input video")
        }
        // Through a symbolic link too.
        try FileManager.default.createSymbolicLink(atPath: dir + "/link.mp4", withDestinationPath: input)
        var r = try run(["run", input, "--pipeline", pipeline, "--whole-frame", "--video", dir + "/link.mp4"])
        XCTAssertEqual(r.code, ExitStatus.failed, r.stderr)
        XCTAssertEqual(Self.bytes(input), original)
        // The boxes file and the pipeline file are inputs as well.
        let boxes = dir + "/b.json"
        try #"[{"image_id": 0, "bbox": [0, 0, 50, 60], "score": 0.9, "category_id": 1}]"#.write(toFile: boxes, atomically: true, encoding: .utf8)
        let boxesBefore = Self.bytes(boxes)
        r = try run(["run", input, "--pipeline", pipeline, "--boxes", boxes, "--coco", boxes])
        XCTAssertEqual(r.code, ExitStatus.failed, r.stderr)
        XCTAssertTrue(r.stderr.contains("b.json"), r.stderr)
        XCTAssertEqual(Self.bytes(boxes), boxesBefore)
        r = try run(["run", input, "--pipeline", pipeline, "--whole-frame", "--keypoints", pipeline])
        XCTAssertEqual(r.code, ExitStatus.failed, r.stderr)
        XCTAssertNotNil(try? PipelineFile.load(pipeline), "the pipeline file was replaced")
        // Two outputs naming one file.
        r = try run(["run", input, "--pipeline", pipeline, "--whole-frame", "--coco", dir + "/o.json", "--posetrack", dir + "/./o.json"])
        XCTAssertEqual(r.code, ExitStatus.failed, r.stderr)
        XCTAssertTrue(r.stderr.contains("name the same file"), r.stderr)
        XCTAssertEqual(Self.debris(dir), [])
    }

    /// Every output is checked before the first one opens: a bad one leaves existing files as they were.
    func testAFailingOutputLeavesExistingFilesUntouched() throws {
        let dir = Fixtures.scratch()
        let pipeline = try Fixtures.tinyPipeline(in: dir)
        let input = dir + "/clip.mp4"
        try Fixtures.makeVideo(input, frames: 3)
        let keep = dir + "/keep.jsonl", coco = dir + "/keep.json"
        try "precious stream\n".write(toFile: keep, atomically: true, encoding: .utf8)
        try "precious coco\n".write(toFile: coco, atomically: true, encoding: .utf8)
        let bad: [[String]] = [
            ["--video", dir + "/x.avi"],
            ["--video", dir + "/missing/x.mp4"],
            ["--coco", dir + "/missing/c.json"],
            ["--posetrack", dir + "/missing/p.json"],
            ["--posetrack", dir],
        ]
        for extra in bad {
            let r = try run(["run", input, "--pipeline", pipeline, "--whole-frame", "--keypoints", keep] + extra
                            + (extra[0] == "--coco" ? [] : ["--coco", coco]))
            XCTAssertEqual(r.code, ExitStatus.failed, "\(extra): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains(extra[1]), r.stderr)
            XCTAssertEqual(try String(contentsOfFile: keep, encoding: .utf8), "precious stream\n", "\(extra)")
            XCTAssertEqual(try String(contentsOfFile: coco, encoding: .utf8), "precious coco\n", "\(extra)")
        }
        XCTAssertEqual(Self.debris(dir), [])
    }

    /// `| head -3`: the run ends with 0, the video stays valid up to the last frame with its audio cut
    /// there too, and the COCO and PoseTrack files, which would look complete, are not produced
    /// (an existing file at their path is untouched).
    func testClosedStreamLeavesNoIncompleteCOCOOrPoseTrack() throws {
        let dir = Fixtures.scratch()
        let walker = Fixtures.packageRoot.appendingPathComponent("Samples/walker.mp4").path
        let coco = dir + "/c.json", pt = dir + "/p.json", video = dir + "/v.mp4"
        try "old results\n".write(toFile: coco, atomically: true, encoding: .utf8)
        let out = Pipe()
        let (p, err) = try CLITests.launch(["run", walker, "--pipeline", try Fixtures.tinyPipeline(in: dir), "--whole-frame",
                                            "--threads", "1", "--keypoints", "-", "--coco", coco, "--posetrack", pt, "--video", video],
                                           stdout: out)
        var text = Data()
        while text.split(separator: UInt8(ascii: "\n")).count < 3 {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            text.append(chunk)
        }
        try out.fileHandleForReading.close()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, ExitStatus.ok, stderr)
        XCTAssertEqual(try String(contentsOfFile: coco, encoding: .utf8), "old results\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: pt))
        XCTAssertTrue(stderr.contains("not written"), stderr)
        let frames = try Self.checkVideo(video, audioSource: walker)
        XCTAssertLessThan(frames, 100)
        XCTAssertEqual(Self.debris(dir), [])
    }

    /// A video's frame count, after checking its audio ends with its last frame (± one audio packet).
    static func checkVideo(_ path: String, audioSource: String?, file: StaticString = #filePath, line: UInt = #line) throws -> Int {
        let reader = try VideoReader(path)
        var frames = 0, lastTime = 0.0
        while let f = try reader.next() { frames += 1; lastTime = f.time }
        XCTAssertNil(reader.stopReason, file: file, line: line)
        if audioSource != nil {
            let audio = try packets(in: path, audio: true)
            XCTAssertFalse(audio.isEmpty, "the audio was dropped", file: file, line: line)
            // Frame times count from the first frame; packet times are the container's (a live
            // source's video may start at 1.4 s).
            let videoStart = try packets(in: path, audio: false).map(\.seconds).min() ?? 0
            let end = (audio.map(\.seconds).max() ?? 0) - videoStart
            XCTAssertLessThanOrEqual(end, lastTime + 1 / 25 + 0.05, "audio runs past the video (\(end) s vs \(lastTime) s)", file: file, line: line)
        }
        return frames
    }

    func testStartPastTheEndIsAnErrorNamingTheFrame() throws {
        let dir = Fixtures.scratch()
        let pipeline = try Fixtures.tinyPipeline(in: dir)
        try Fixtures.makeVideo(dir + "/clip.mp4", frames: 5)
        for start in [5, 6, 7] {
            let r = try run(["run", dir + "/clip.mp4", "--pipeline", pipeline, "--whole-frame", "--keypoints", dir + "/k.jsonl",
                             "--start", "\(start)"])
            XCTAssertEqual(r.code, ExitStatus.badInput, r.stderr)
            XCTAssertTrue(r.stderr.contains("--start \(start) is past the last frame (4)"), r.stderr)
            XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/k.jsonl"))
        }
        let r = try run(["run", dir + "/clip.mp4", "--pipeline", pipeline, "--whole-frame", "--keypoints", dir + "/k.jsonl", "--start", "4"])
        XCTAssertEqual(r.code, ExitStatus.ok, r.stderr)
        XCTAssertEqual(try KeypointStream.read(path: dir + "/k.jsonl").frames.map(\.frame), [4])
    }

    func testPoseTrackOutputNeedsAPoseTrackModel() throws {
        let dir = Fixtures.scratch()
        try Fixtures.makeVideo(dir + "/clip.mp4", frames: 2)
        let r = try run(["run", dir + "/clip.mp4", "--weights", Fixtures.tinyTopDown, "--whole-frame", "--posetrack", dir + "/p.json"])
        XCTAssertEqual(r.code, ExitStatus.badInput, r.stderr)
        XCTAssertTrue(r.stderr.contains("p.json") && r.stderr.contains("coco17"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/p.json"))
    }

    /// A file-size limit (as a full disk): a clear error naming the file, exit 2, existing files untouched.
    func testFullDiskNamesTheFileAndKeepsExistingFiles() throws {
        guard let binary = CLITests.binary else { throw XCTSkip("the posewarper executable is not built") }
        let dir = Fixtures.scratch()
        try Fixtures.makeVideo(dir + "/clip.mp4", frames: 60)
        let pipeline = try Fixtures.tinyPipeline(in: dir)
        for output in ["--coco", "--video"] {
            let target = dir + (output == "--coco" ? "/c.json" : "/v.mp4")
            try "existing\n".write(toFile: target, atomically: true, encoding: .utf8)
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/sh")
            p.arguments = ["-c", "ulimit -f 8; exec \"$0\" \"$@\"", binary, "run", dir + "/clip.mp4", "--pipeline", pipeline,
                           "--whole-frame", "--quiet", output, target]
            let err = Pipe()
            p.standardError = err
            try p.run()
            let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            XCTAssertEqual(p.terminationReason, .exit, "killed by SIGXFSZ")
            XCTAssertEqual(p.terminationStatus, ExitStatus.failed, stderr)
            XCTAssertTrue(stderr.contains(target), stderr)
            XCTAssertTrue(stderr.contains("File too large"), stderr)
            XCTAssertEqual(try String(contentsOfFile: target, encoding: .utf8), "existing\n")
            XCTAssertEqual(Self.debris(dir), [])
        }
    }

    func testSmallerCommandLineAndInputProblems() throws {
        let dir = Fixtures.scratch()
        let pipeline = try Fixtures.tinyPipeline(in: dir)
        try Fixtures.makeVideo(dir + "/clip.mp4", frames: 3)
        // A negative number is a bad value (64), not a missing one.
        var r = try run(["run", dir + "/clip.mp4", "--pipeline", pipeline, "--whole-frame", "--keypoints", "-", "--threads", "-2"])
        XCTAssertEqual(r.code, ExitStatus.usage, r.stderr)
        XCTAssertTrue(r.stderr.contains("--threads must be at least 1"), r.stderr)
        // A missing boxes file says so in plain words.
        r = try run(["run", dir + "/clip.mp4", "--pipeline", pipeline, "--keypoints", "-", "--boxes", dir + "/none.json"])
        XCTAssertEqual(r.code, ExitStatus.badInput)
        XCTAssertTrue(r.stderr.contains("none.json: cannot read boxes file: No such file or directory"), r.stderr)
        // An empty boxes file runs, with a warning.
        try "[]".write(toFile: dir + "/empty.json", atomically: true, encoding: .utf8)
        r = try run(["run", dir + "/clip.mp4", "--pipeline", pipeline, "--keypoints", "-", "--boxes", dir + "/empty.json"])
        XCTAssertEqual(r.code, ExitStatus.ok, r.stderr)
        XCTAssertTrue(r.stderr.contains("empty.json: no person box"), r.stderr)
        // An unknown render schema is a command-line error.
        r = try run(["render", dir + "/clip.mp4", "--keypoints", dir + "/k.jsonl", "-o", dir + "/o.mp4", "--schema", "foo"])
        XCTAssertEqual(r.code, ExitStatus.usage, r.stderr)
        // --crf / --preset reach the annotated video's encoder.
        r = try run(["run", dir + "/clip.mp4", "--pipeline", pipeline, "--whole-frame", "--video", dir + "/v.mp4", "--crf", "60"])
        XCTAssertEqual(r.code, ExitStatus.usage, r.stderr)
        r = try run(["run", dir + "/clip.mp4", "--pipeline", pipeline, "--whole-frame", "--video", dir + "/v.mp4",
                     "--crf", "35", "--preset", "ultrafast"])
        XCTAssertEqual(r.code, ExitStatus.ok, r.stderr)
    }

    /// Image folders carry no timing: `--image-fps` gives theirs.
    func testImageFolderFrameRate() throws {
        let dir = Fixtures.scratch()
        let r = try run(["run", Fixtures.window6, "--pipeline", try Fixtures.tinyPipeline(in: dir), "--whole-frame",
                         "--keypoints", dir + "/k.jsonl", "--image-fps", "30"])
        XCTAssertEqual(r.code, ExitStatus.ok, r.stderr)
        let stream = try KeypointStream.read(path: dir + "/k.jsonl")
        XCTAssertEqual(stream.header?.video?.fps, 30)
        XCTAssertEqual(stream.frames[3].time, 0.1, accuracy: 1e-9)
    }

    /// `-` and `pipe:0` read stdin; `file:` URLs pass through to libavformat.
    func testStdinAndProtocolInputs() throws {
        let dir = Fixtures.scratch()
        let pipeline = try Fixtures.tinyPipeline(in: dir)
        try Fixtures.makeVideo(dir + "/clip.mp4", frames: 4)
        for source in ["-", "pipe:0"] {
            let (p, err) = try CLITests.launch(["run", source, "--pipeline", pipeline, "--whole-frame", "--keypoints", dir + "/k.jsonl"],
                                               stdin: FileHandle(forReadingAtPath: dir + "/clip.mp4"))
            let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            XCTAssertEqual(p.terminationStatus, ExitStatus.ok, source + ": " + stderr)
            XCTAssertEqual(try KeypointStream.read(path: dir + "/k.jsonl").frames.map(\.frame), [0, 1, 2, 3], source)
        }
        let r = try run(["run", "file:" + dir + "/clip.mp4", "--pipeline", pipeline, "--whole-frame", "--keypoints", dir + "/k2.jsonl"])
        XCTAssertEqual(r.code, ExitStatus.ok, r.stderr)
        XCTAssertEqual(try KeypointStream.read(path: dir + "/k2.jsonl").frames.count, 4)
        XCTAssertTrue(VideoReader.isURL("file:x.mp4") && VideoReader.isURL("pipe:0") && VideoReader.isURL("udp://1.2.3.4:5"))
        XCTAssertFalse(VideoReader.isURL("clip.mp4") || VideoReader.isURL("nosuchprotocol:x.mp4") || VideoReader.isURL(":x"))
    }

    /// A source read once (stdin) cannot be reopened for its audio: the packets are kept while the
    /// video is decoded and copied into the annotated video.
    func testAudioOfStdinIsCopiedWhileDecoding() throws {
        let dir = Fixtures.scratch()
        let walker = Fixtures.packageRoot.appendingPathComponent("Samples/walker.mp4").path
        // The first second of the walker, with its audio, in Matroska (readable through a pipe).
        let reader = try VideoReader(walker, end: .frame(25))
        let writer = try VideoWriter(path: dir + "/clip.mkv", like: reader, options: VideoWriterOptions(preset: "ultrafast"))
        while let frame = try reader.next() { try writer.write(frame) }
        try writer.finish()
        let sourceAudio = try packets(in: dir + "/clip.mkv", audio: true)
        XCTAssertGreaterThan(sourceAudio.count, 30)

        let (p, err) = try CLITests.launch(["run", "-", "--pipeline", try Fixtures.tinyPipeline(in: dir), "--whole-frame",
                                            "--video", dir + "/out.mp4"], stdin: FileHandle(forReadingAtPath: dir + "/clip.mkv"))
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, ExitStatus.ok, stderr)
        XCTAssertFalse(stderr.contains("not copied"), stderr)
        XCTAssertEqual(try Self.checkVideo(dir + "/out.mp4", audioSource: "-"), 25)
        let copied = try packets(in: dir + "/out.mp4", audio: true)
        XCTAssertEqual(copied.map(\.bytes), sourceAudio.map(\.bytes), "audio packets copied unchanged")
    }

    /// An MP4 with its index (moov) at the end cannot be read through a pipe: no frame decodes, and
    /// that is a bad input (exit 1, the remedy named, nothing written), not an empty success.
    func testPipedMP4WithoutAFrameIsAnError() throws {
        let ffmpeg = try LiveStreamTests.ffmpegPath()
        let dir = Fixtures.scratch()
        let clip = dir + "/moov-last.mp4"
        let make = Process()
        make.executableURL = URL(fileURLWithPath: ffmpeg)
        // Lossless, so the file (≈ 90 kB) is larger than what libavformat keeps to seek back in a pipe.
        make.arguments = ["-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=0.4",
                          "-c:v", "libx264", "-preset", "ultrafast", "-qp", "0", "-pix_fmt", "yuv420p", clip]
        try make.run()
        make.waitUntilExit()
        XCTAssertEqual(make.terminationStatus, 0)
        try "keep\n".write(toFile: dir + "/k.jsonl", atomically: true, encoding: .utf8)
        let (p, err) = try CLITests.launch(["run", "-", "--pipeline", try Fixtures.tinyPipeline(in: dir), "--whole-frame",
                                            "--keypoints", dir + "/k.jsonl", "--video", dir + "/v.mp4"],
                                           stdin: FileHandle(forReadingAtPath: clip))
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, ExitStatus.badInput, stderr)
        XCTAssertTrue(stderr.contains("no frame could be decoded: read error before the first frame") && stderr.contains("faststart"), stderr)
        XCTAssertEqual(try String(contentsOfFile: dir + "/k.jsonl", encoding: .utf8), "keep\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/v.mp4"))
        XCTAssertEqual(Self.debris(dir), [])
        // The same file by name reads fine.
        let r = try run(["run", clip, "--pipeline", try Fixtures.tinyPipeline(in: dir), "--whole-frame", "--keypoints", dir + "/k.jsonl"])
        XCTAssertEqual(r.code, ExitStatus.ok, r.stderr)
        XCTAssertEqual(try KeypointStream.read(path: dir + "/k.jsonl").frames.count, 10)
    }

    /// One mapping from every module's error type to the exit code.
    func testEveryModuleErrorMapsToOneExitCode() {
        XCTAssertEqual(ExitStatus.code(for: PipelineError.badInput("x")), 1)
        XCTAssertEqual(ExitStatus.code(for: PipelineError.outputNotWritten("x")), 2)
        XCTAssertEqual(ExitStatus.code(for: PipelineError.internalFailure("x")), 2)
        XCTAssertEqual(ExitStatus.code(for: VideoError.missingFile("x")), 1)
        XCTAssertEqual(ExitStatus.code(for: VideoError.unwritable("x", reason: "y")), 2)
        XCTAssertEqual(ExitStatus.code(for: KeypointStreamError.unreadable(path: "x", reason: "y")), 1)
        XCTAssertEqual(ExitStatus.code(for: CocoaError(.fileNoSuchFile)), 2, "an unexpected error is an internal failure")
        XCTAssertEqual(ExitStatus.code(forSignal: SIGINT), 130)
        XCTAssertEqual(ExitStatus.code(forSignal: SIGTERM), 143)
    }
}
