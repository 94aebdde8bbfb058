import XCTest
import Keypoints
@testable import Video

/// `posewarper probe` and `posewarper render` run as a user runs them (the built executable).
final class CLITests: XCTestCase {
    /// The `posewarper` executable next to the test bundle (`make test` builds it first).
    private func binary() throws -> String {
        let testBinary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [testBinary.appendingPathComponent("posewarper").path,
                          testBinary.deletingLastPathComponent().appendingPathComponent("posewarper").path,
                          packageRoot + "/.build/release/posewarper"]
        where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        throw XCTSkip("posewarper executable not built (swift build -c release --product posewarper)")
    }

    /// Runs the CLI, returning status, stdout and stderr separately.
    private func posewarper(_ args: [String]) throws -> (status: Int32, out: String, err: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try binary())
        p.arguments = args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    /// A keypoint stream with one person whose left arm runs from (30, 40) to (110, 40) on frames 0…n-1 except `skip`.
    private func writeStream(_ path: String, frames n: Int, skip: Int? = nil, keypointCount: Int = 17) throws {
        var lines = [KeypointStream.encode(KeypointStreamHeader(schema: .coco17, video: .init(width: 160, height: 120, fps: 25)))]
        for i in 0..<n where i != skip {
            var k = Array(repeating: [0.0, 0.0, 0.0], count: keypointCount)
            if keypointCount == 17 { k[5] = [30, 40, 0.9]; k[7] = [110, 40, 0.9] }
            let person = PersonPose(trackID: 2, bbox: [20, 30, 100, 70], score: 0.9, keypoints: k)
            lines.append(KeypointStream.encode(FrameKeypoints(frame: i, time: Double(i) / 25, persons: [person])))
        }
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
    }

    func testRenderEndToEnd() throws {
        _ = try binary()
        let dir = try makeTemporaryFolder(self)
        let input = dir + "/in.mp4", stream = dir + "/k.jsonl", output = dir + "/out.mp4"
        let source = try writeSyntheticVideo(input, width: 160, height: 120, frames: 10, options: VideoWriterOptions(crf: 12, preset: "ultrafast"))
        try writeStream(stream, frames: 10, skip: 4)
        let r = try posewarper(["render", input, "--keypoints", stream, "--output", output, "--preset", "ultrafast", "--crf", "12", "--thickness", "6"])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.out.contains("10 frames (9 with keypoints)"), r.out)
        let (reader, frames) = try readAll(output)
        XCTAssertEqual(frames.count, 10)
        XCTAssertEqual(reader.info.averageFPS, 25, accuracy: 1e-9)
        XCTAssertEqual(frames.map(\.time), source.map(\.time))
        for f in frames {
            let arm = f.pixel(70, 40)
            if f.index == 4 {
                // No keypoints for this frame: the picture is the input's.
                XCTAssertGreaterThan(psnr(f, source[4]), 34)
            } else {
                // The left upper arm in mmpose's left-side green, within compression error.
                XCTAssertLessThan(Int(arm[0]), 60, "frame \(f.index) \(arm)")
                XCTAssertGreaterThan(Int(arm[1]), 210, "frame \(f.index) \(arm)")
                XCTAssertLessThan(Int(arm[2]), 60, "frame \(f.index) \(arm)")
            }
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir).sorted(), ["in.mp4", "k.jsonl", "out.mp4"])
    }

    func testRenderErrors() throws {
        _ = try binary()
        let dir = try makeTemporaryFolder(self)
        let input = dir + "/in.mp4", stream = dir + "/k.jsonl"
        try writeSyntheticVideo(input, frames: 3)
        try writeStream(stream, frames: 3)
        // Missing input.
        var r = try posewarper(["render", dir + "/missing.mp4", "--keypoints", stream, "--output", dir + "/o.mp4"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.err.contains(dir + "/missing.mp4"), r.err)
        // A text file named .mp4.
        try "hello".write(toFile: dir + "/text.mp4", atomically: true, encoding: .utf8)
        r = try posewarper(["render", dir + "/text.mp4", "--keypoints", stream, "--output", dir + "/o.mp4"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.err.contains("text.mp4") && r.err.contains("not a media file"), r.err)
        // Missing and malformed keypoint streams.
        r = try posewarper(["render", input, "--keypoints", dir + "/none.jsonl", "--output", dir + "/o.mp4"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.err.contains("none.jsonl"), r.err)
        try writeStream(dir + "/short.jsonl", frames: 3, keypointCount: 5)
        r = try posewarper(["render", input, "--keypoints", dir + "/short.jsonl", "--output", dir + "/o.mp4"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.err.contains("short.jsonl") && r.err.contains("5 keypoints"), r.err)
        // Unwritable output.
        r = try posewarper(["render", input, "--keypoints", stream, "--output", dir + "/no/such/dir/o.mp4"])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.err.contains("o.mp4") && r.err.contains("does not exist"), r.err)
        // A file cut so short that no frame decodes: an input error, nothing written.
        let data = try Data(contentsOf: URL(fileURLWithPath: input))
        try data.prefix(data.count / 10 + 700).write(to: URL(fileURLWithPath: dir + "/stub.mp4"))
        r = try posewarper(["render", dir + "/stub.mp4", "--keypoints", stream, "--output", dir + "/o.mp4"])
        XCTAssertEqual(r.status, 1, r.err)
        XCTAssertTrue(r.err.contains("stub.mp4"), r.err)
        try FileManager.default.removeItem(atPath: dir + "/stub.mp4")
        // An unknown schema.
        r = try posewarper(["render", input, "--keypoints", stream, "--output", dir + "/o.mp4", "--schema", "halpe26"])
        XCTAssertEqual(r.status, 64, "a bad flag value is a command-line error")
        XCTAssertTrue(r.err.contains("halpe26"), r.err)
        r = try posewarper(["render", input, "--keypoints", stream, "--output", input])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.err.contains("replace the input"), r.err)
        r = try posewarper(["render", input, "--keypoints", stream, "--output", dir + "/o.avi"])
        XCTAssertEqual(r.status, 2)
        // A missing label font is the user's to fix; the message names it; nothing is written.
        r = try posewarper(["render", input, "--keypoints", stream, "--output", dir + "/o.mp4", "--font", dir + "/nofont.ttf"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.err.contains(dir + "/nofont.ttf") && r.err.contains("font file not found"), r.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/o.mp4"))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir).sorted(),
                       ["in.mp4", "k.jsonl", "short.jsonl", "text.mp4"])
    }

    func testRenderOfATruncatedInputWarnsAndFinishes() throws {
        _ = try binary()
        let dir = try makeTemporaryFolder(self)
        let input = dir + "/in.mp4", stream = dir + "/k.jsonl", output = dir + "/out.mp4"
        try writeSyntheticVideo(input, frames: 30, options: VideoWriterOptions(preset: "ultrafast", keyframeInterval: 5))
        let data = try Data(contentsOf: URL(fileURLWithPath: input))
        try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: input))
        try writeStream(stream, frames: 30)
        let r = try posewarper(["render", input, "--keypoints", stream, "--output", output, "--preset", "ultrafast"])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.err.contains("warning") && r.err.contains("truncated") && r.err.contains("in.mp4"), r.err)
        XCTAssertTrue(r.err.contains("match no video frame"), r.err)
        let written = try VideoReader(output).countRemaining()
        XCTAssertGreaterThan(written, 0)
        XCTAssertLessThan(written, 30)
        XCTAssertTrue(r.err.contains("stopped after \(written) frames"), r.err)
    }

    func testProbe() throws {
        _ = try binary()
        let dir = try makeTemporaryFolder(self)
        let input = dir + "/in.mkv"
        try writeSyntheticVideo(input, width: 96, height: 64, frames: 12)
        var r = try posewarper(["probe", input, "--json", "--count"])
        XCTAssertEqual(r.status, 0, r.err)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any])
        XCTAssertEqual(json["width"] as? Int, 96)
        XCTAssertEqual(json["height"] as? Int, 64)
        XCTAssertEqual(json["video_codec"] as? String, "h264")
        XCTAssertEqual(json["counted_frames"] as? Int, 12)
        XCTAssertEqual(json["average_fps"] as? Double, 25)
        XCTAssertEqual(json["has_audio"] as? Bool, false)
        XCTAssertTrue(json["frame_count"] is NSNull)   // Matroska does not store a frame count
        r = try posewarper(["probe", input])
        XCTAssertEqual(r.status, 0)
        XCTAssertTrue(r.out.contains("h264 96x64") && r.out.contains("unknown (use --count)"), r.out)
        // A truncated file: counted frames on stdout, the reason on stderr, exit 0.
        let cut = dir + "/cut.mp4"
        try writeSyntheticVideo(cut, frames: 30, options: VideoWriterOptions(preset: "ultrafast", keyframeInterval: 5))
        let data = try Data(contentsOf: URL(fileURLWithPath: cut))
        try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: cut))
        r = try posewarper(["probe", cut, "--count"])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.err.contains("cut.mp4") && r.err.contains("truncated"), r.err)
        XCTAssertTrue(r.out.contains("(counted); the container lists 30"), r.out)
        r = try posewarper(["probe", dir + "/missing.mp4"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.err.contains("missing.mp4: no such file"), r.err)
    }

    func testCtrlCRemovesTheOutput() throws {
        let path = try binary()
        let dir = try makeTemporaryFolder(self)
        let input = dir + "/in.mp4", stream = dir + "/k.jsonl", output = dir + "/out.mp4"
        try writeSyntheticVideo(input, width: 320, height: 240, frames: 150, options: VideoWriterOptions(preset: "ultrafast"))
        try writeStream(stream, frames: 150)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        // veryslow keeps the render busy for seconds, long enough to interrupt it mid-way.
        p.arguments = ["render", input, "--keypoints", stream, "--output", output, "--preset", "veryslow"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        // Wait until the temporary output exists (the render has started writing).
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline, p.isRunning,
              !((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).contains(where: { $0.contains(".partial-") }) {
            usleep(20_000)
        }
        XCTAssertTrue(p.isRunning, "the render finished before it could be interrupted")
        kill(p.processIdentifier, SIGINT)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 130)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir).sorted(), ["in.mp4", "k.jsonl"])
    }

    func testInterruptedOverlayInTheLibraryLeavesNothing() throws {
        let dir = try makeTemporaryFolder(self)
        let input = dir + "/in.mp4"
        try writeSyntheticVideo(input, frames: 10)
        var polls = 0
        XCTAssertThrowsError(try KeypointOverlay.render(input: input, keypoints: [], schema: .coco17, output: dir + "/o.mp4",
                                                        writerOptions: VideoWriterOptions(preset: "ultrafast"),
                                                        shouldStop: { polls += 1; return polls > 3 })) {
            XCTAssertEqual($0 as? VideoError, .interrupted(dir + "/o.mp4"))
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["in.mp4"])
    }
}
