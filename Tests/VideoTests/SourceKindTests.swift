import XCTest
@testable import Video

/// Image folders, printf patterns, rotated and truncated files, audio passthrough.
final class SourceKindTests: XCTestCase {
    func testImageFolderIsSortedNumericallyAndLossless() throws {
        let dir = try makeTemporaryFolder(self)
        // Numeric order (2 before 10) differs from name order ("frame_10" < "frame_2").
        let numbers = [0, 1, 2, 10, 11]
        var expected: [VideoFrame] = []
        for (i, n) in numbers.enumerated() {
            let f = syntheticFrame(index: i, pts: Int64(i), time: 0, width: 40, height: 30)
            try writePPM(dir + "/frame_\(n).ppm", f)
            expected.append(f)
        }
        try "not an image".write(toFile: dir + "/notes.txt", atomically: true, encoding: .utf8)
        let (reader, frames) = try readAll(dir, options: VideoReaderOptions(imageSequenceFPS: 10))
        XCTAssertEqual(reader.info.frameCount, 5)
        XCTAssertEqual(reader.info.container, "image-sequence")
        XCTAssertEqual(frames.map(\.index), [0, 1, 2, 3, 4])
        XCTAssertEqual(frames.map(\.time), [0, 0.1, 0.2, 0.3, 0.4])
        for (e, f) in zip(expected, frames) { XCTAssertEqual(e.rgb, f.rgb, "image \(e.index) out of order or altered") }
        // A range on an image sequence jumps straight to the file.
        let (_, tail) = try readAll(dir, start: .frame(3), options: VideoReaderOptions(imageSequenceFPS: 10))
        XCTAssertEqual(tail.map(\.index), [3, 4])
        XCTAssertEqual(tail[0].rgb, expected[3].rgb)
    }

    func testPrintfPattern() throws {
        let dir = try makeTemporaryFolder(self)
        var expected: [VideoFrame] = []
        for i in 0..<4 {
            let f = syntheticFrame(index: i, pts: Int64(i), time: 0, width: 32, height: 24)
            try writePPM(dir + "/" + String(format: "%06d.ppm", i + 1), f)
            expected.append(f)
        }
        try writePPM(dir + "/0005.ppm", expected[0])   // wrong width: not part of %06d
        let (reader, frames) = try readAll(dir + "/%06d.ppm")
        XCTAssertEqual(reader.info.frameCount, 4)
        XCTAssertEqual(reader.info.averageFPS, 25)
        XCTAssertEqual(frames.map(\.rgb), expected.map(\.rgb))
    }

    func testPoseTrackPatternMatchesFolder() throws {
        guard let clip = posetrackClip() else { throw XCTSkip("../shared/data/posetrack18-clip is absent") }
        let (_, folder) = try readAll(clip)
        let (_, pattern) = try readAll(clip + "/%06d.jpg")
        XCTAssertEqual(folder.count, 5)
        XCTAssertEqual(folder.map(\.rgb), pattern.map(\.rgb))
    }

    func testTruncatedFileDecodesWhatItCanAndSaysWhy() throws {
        let dir = try makeTemporaryFolder(self)
        let path = dir + "/cut.mp4"
        try writeSyntheticVideo(path, width: 160, height: 120, frames: 40, options: VideoWriterOptions(preset: "ultrafast", keyframeInterval: 10))
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        try data.prefix(data.count * 6 / 10).write(to: URL(fileURLWithPath: path))
        let (reader, frames) = try readAll(path)
        XCTAssertGreaterThan(frames.count, 5)
        XCTAssertLessThan(frames.count, 40)
        XCTAssertEqual(frames.map(\.index), Array(0..<frames.count))
        let reason = try XCTUnwrap(reader.stopReason)
        XCTAssertTrue(reason.contains("truncated"), reason)
        XCTAssertTrue(reason.contains("of the 40 frames"), reason)
        print("truncated: \(frames.count) frames, reason: \(reason)")
    }

    func testEveryTruncationPointIsHandled() throws {
        let dir = try makeTemporaryFolder(self)
        let full = dir + "/full.mp4", cut = dir + "/cut.mp4"
        try writeSyntheticVideo(full, width: 64, height: 48, frames: 30, options: VideoWriterOptions(preset: "ultrafast", keyframeInterval: 5))
        let data = try Data(contentsOf: URL(fileURLWithPath: full))
        var outcomes: [String] = []
        for fraction in stride(from: 0.02, to: 1.0, by: 0.07) {
            try data.prefix(Int(Double(data.count) * fraction)).write(to: URL(fileURLWithPath: cut))
            do {
                let (reader, frames) = try readAll(cut)
                // Whatever was decoded is a prefix of the video, and the shortfall is reported.
                XCTAssertEqual(frames.map(\.index), Array(0..<frames.count))
                XCTAssertLessThan(frames.count, 30)
                XCTAssertNotNil(reader.stopReason, "cut at \(fraction): \(frames.count) frames and no reason")
                outcomes.append("\(frames.count)")
            } catch let error as VideoError {
                // Cut inside the header: not readable at all (or only a broken data track is
                // left), with the file named.
                switch error {
                case let .notMedia(p, _), let .noVideoStream(p): XCTAssertEqual(p, cut)
                default: XCTFail("\(error)")
                }
                outcomes.append("unreadable")
            }
        }
        print("truncation outcomes (frames decoded per cut point): \(outcomes)")
    }

    func testUnsupportedCodec() throws {
        let dir = try makeTemporaryFolder(self)
        let path = dir + "/odd.mkv"
        try writeSyntheticVideo(path, frames: 3)
        // Rename the Matroska codec ID in place (same length), so no decoder claims the track.
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let id = Array("V_MPEG4/ISO/AVC".utf8), fake = Array("V_POSEWARPERXYZ".utf8)
        let at = try XCTUnwrap((0...(bytes.count - id.count)).first { Array(bytes[$0..<($0 + id.count)]) == id })
        bytes.replaceSubrange(at..<(at + id.count), with: fake)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try VideoReader(path)) { error in
            guard case let .unsupportedCodec(p, _)? = error as? VideoError else { return XCTFail("\(error)") }
            XCTAssertEqual(p, path)
        }
    }

    func testNoVideoStream() throws {
        guard let ffmpeg = ffmpegCLI() else { throw XCTSkip("ffmpeg CLI not installed") }
        let dir = try makeTemporaryFolder(self)
        let path = dir + "/tone.m4a"
        let r = try runProgram(ffmpeg, ["-v", "error", "-f", "lavfi", "-i", "sine=frequency=440:duration=0.5", "-c:a", "aac", path])
        XCTAssertEqual(r.status, 0, r.output)
        XCTAssertThrowsError(try VideoReader(path)) { XCTAssertEqual($0 as? VideoError, .noVideoStream(path)) }
    }

    func testRotatedVideoMatchesFFmpegAutorotation() throws {
        guard let ffmpeg = ffmpegCLI() else { throw XCTSkip("ffmpeg CLI not installed") }
        let dir = try makeTemporaryFolder(self)
        let plain = dir + "/plain.mp4", rotated = dir + "/rotated.mp4"
        try writeSyntheticVideo(plain, width: 64, height: 48, frames: 3, options: VideoWriterOptions(crf: 10, preset: "ultrafast"))
        // A display matrix from the "rotate" tag. FFmpeg 5.1 stores rotate=90 as a matrix its own
        // player and CLI show turned 90° counter-clockwise (270° clockwise); we must agree with it.
        let r = try runProgram(ffmpeg, ["-v", "error", "-i", plain, "-c", "copy", "-metadata:s:v:0", "rotate=90", rotated])
        XCTAssertEqual(r.status, 0, r.output)
        let (_, base) = try readAll(plain)
        let (reader, turned) = try readAll(rotated)
        XCTAssertEqual(reader.info.rotation, 270)
        XCTAssertEqual(reader.info.width, 48)
        XCTAssertEqual(reader.info.height, 64)
        XCTAssertEqual(reader.info.storedWidth, 64)
        XCTAssertEqual(turned.count, 3)
        for (b, t) in zip(base, turned) {
            XCTAssertEqual(t.width, 48)
            XCTAssertEqual(t.height, 64)
            // 270° clockwise: display (x, y) shows stored (W-1-y, x).
            for (x, y) in [(0, 0), (47, 0), (0, 63), (20, 30)] {
                XCTAssertEqual(t.pixel(x, y), b.pixel(63 - y, x), "(\(x),\(y))")
            }
        }
        // The independent peer: ffmpeg's own autorotation of the same file.
        let raw = dir + "/rotated.rgb"
        let d = try runProgram(ffmpeg, ["-v", "error", "-i", rotated, "-f", "rawvideo", "-pix_fmt", "rgb24", raw])
        XCTAssertEqual(d.status, 0, d.output)
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: raw)))
        XCTAssertEqual(bytes.count, 3 * 48 * 64 * 3)
        let peer = VideoFrame(index: 0, time: 0, pts: 0, width: 48, height: 64, rgb: Array(bytes[0..<(48 * 64 * 3)]))
        // Same pixels up to chroma-upsampling differences (a wrong direction gives ≈ 10 dB).
        XCTAssertGreaterThan(psnr(turned[0], peer), 30)
    }

    func testAudioIsCopiedUnchanged() throws {
        guard let ffmpeg = ffmpegCLI() else { throw XCTSkip("ffmpeg CLI not installed") }
        let dir = try makeTemporaryFolder(self)
        let source = dir + "/talk.mp4"
        let r = try runProgram(ffmpeg, ["-v", "error", "-f", "lavfi", "-i", "testsrc=size=96x64:rate=25:duration=2",
                                        "-f", "lavfi", "-i", "sine=frequency=440:duration=2:sample_rate=48000",
                                        "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-shortest", source])
        XCTAssertEqual(r.status, 0, r.output)
        try checkAudioPassthrough(source: source, dir: dir)
    }

    /// The same with an audio track this project synthesises itself (no ffmpeg CLI needed): a sine
    /// encoded to AAC with libavcodec, muxed next to our own video by VideoWriter's audio copy.
    func testAudioIsCopiedUnchangedWithoutTheCLI() throws {
        let dir = try makeTemporaryFolder(self)
        let tone = dir + "/tone.m4a", source = dir + "/talk.mp4"
        XCTAssertGreaterThan(try writeSineM4A(tone, seconds: 2), 90)
        let info = VideoInfo(source: "synthetic", container: "none", width: 96, height: 64, averageFPS: 25,
                             videoCodec: "rawvideo", timeBase: Rational(1, 25))
        let writer = try VideoWriter(path: source, info: info, audioSource: tone, options: VideoWriterOptions(preset: "ultrafast"))
        for i in 0..<50 { try writer.write(syntheticFrame(index: i, pts: Int64(i), time: Double(i) / 25, width: 96, height: 64)) }
        try writer.finish()
        XCTAssertEqual(try packets(in: source, audio: true).map(\.bytes), try packets(in: tone, audio: true).map(\.bytes))
        try checkAudioPassthrough(source: source, dir: dir)
    }

    /// Re-encodes `source` (2 s, 25 fps, with AAC audio) and checks the audio packets survive unchanged,
    /// in mp4 and mkv, and that a range keeps only its share of the audio.
    private func checkAudioPassthrough(source: String, dir: String) throws {
        let reader = try VideoReader(source)
        XCTAssertTrue(reader.info.hasAudio)
        XCTAssertEqual(reader.info.audioCodec, "aac")
        for ext in ["mp4", "mkv"] {
            let out = dir + "/copy.\(ext)"
            let reader = try VideoReader(source)
            let writer = try VideoWriter(path: out, like: reader, options: VideoWriterOptions(preset: "ultrafast"))
            while let f = try reader.next() { try writer.write(f) }
            try writer.finish()
            XCTAssertTrue(writer.warnings.isEmpty, "\(writer.warnings)")
            let sourceAudio = try packets(in: source, audio: true)
            let copiedAudio = try packets(in: out, audio: true)
            XCTAssertGreaterThan(sourceAudio.count, 50)
            XCTAssertEqual(copiedAudio.map(\.bytes), sourceAudio.map(\.bytes), "\(ext): audio payload changed")
            // Timing relative to the video is kept (Matroska shifts the whole file so AAC's negative
            // priming start becomes 0, hence the comparison against each file's video start).
            let info = try VideoReader(out).info
            let sourceStart = Double(reader.info.startPTS) * reader.info.timeBase.value
            let outStart = Double(info.startPTS) * info.timeBase.value
            for (a, b) in zip(copiedAudio, sourceAudio) { XCTAssertEqual(a.seconds - outStart, b.seconds - sourceStart, accuracy: 1e-3) }
            XCTAssertEqual(info.audioCodec, "aac")
            XCTAssertEqual(try VideoReader(out).countRemaining(), 50)
        }
        // A range keeps only its share of the audio, shifted to start with the video.
        let part = dir + "/part.mp4"
        let ranged = try VideoReader(source, start: .time(0.5), end: .time(1.5))
        let writer = try VideoWriter(path: part, like: ranged, options: VideoWriterOptions(preset: "ultrafast"))
        while let f = try ranged.next() { try writer.write(f) }
        try writer.finish()
        let partAudio = try packets(in: part, audio: true)
        let (_, partFrames) = try readAll(part)
        XCTAssertEqual(partFrames.count, 25)
        XCTAssertEqual(partFrames.first?.time ?? -1, 0, accuracy: 1e-9)
        let audioSpan = (partAudio.last!.seconds - partAudio.first!.seconds)
        XCTAssertEqual(audioSpan, 1.0, accuracy: 0.05)
        XCTAssertLessThan(abs(partAudio.first!.seconds), 0.03)
    }
}
