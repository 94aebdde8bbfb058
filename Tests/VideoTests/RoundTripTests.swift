import XCTest
@testable import Video

/// Frames written by VideoWriter come back from VideoReader with the same count, size, timing and
/// (within compression error) pixels.
final class RoundTripTests: XCTestCase {
    func testH264MP4RoundTrip() throws {
        let dir = try makeTemporaryFolder(self)
        let path = dir + "/clip.mp4"
        let written = try writeSyntheticVideo(path, width: 160, height: 120, frames: 20, fps: 25,
                                              options: VideoWriterOptions(crf: 18, preset: "ultrafast"))
        let (reader, frames) = try readAll(path)
        XCTAssertEqual(reader.info.videoCodec, "h264")
        XCTAssertEqual(reader.info.width, 160)
        XCTAssertEqual(reader.info.height, 120)
        XCTAssertEqual(reader.info.averageFPS, 25, accuracy: 1e-9)
        XCTAssertEqual(reader.info.realFPS, 25, accuracy: 1e-9)
        XCTAssertEqual(reader.info.frameCount, 20)
        XCTAssertEqual(reader.info.duration ?? 0, 0.8, accuracy: 1e-6)
        XCTAssertEqual(reader.info.container, "mov,mp4,m4a,3gp,3g2,mj2")
        XCTAssertFalse(reader.info.hasAudio)
        XCTAssertNil(reader.stopReason)
        XCTAssertEqual(frames.count, 20)
        XCTAssertEqual(frames.map(\.index), Array(0..<20))
        for (w, r) in zip(written, frames) {
            XCTAssertEqual(r.time, Double(w.index) / 25, accuracy: 1e-9)
            XCTAssertEqual(r.pts * Int64(reader.info.timeBase.num) * 25, Int64(w.index) * Int64(reader.info.timeBase.den))
            // Measured 37.3–43.7 dB at CRF 18 ultrafast; a colour-matrix or range mix-up costs > 10 dB.
            XCTAssertGreaterThan(psnr(w, r), 34, "frame \(w.index)")
            if w.index == 0 { print("round trip h264 crf18: PSNR \(psnr(w, r)) dB") }
        }
        // The moov index comes before the media data (+faststart).
        let head = try FileHandle(forReadingFrom: URL(fileURLWithPath: path)).readData(ofLength: 4096)
        let moov = head.range(of: Data("moov".utf8)), mdat = head.range(of: Data("mdat".utf8))
        XCTAssertNotNil(moov)
        if let moov, let mdat { XCTAssertLessThan(moov.lowerBound, mdat.lowerBound) }
    }

    func testContainersAndMPEG4Fallback() throws {
        let dir = try makeTemporaryFolder(self)
        for (name, encoder, codec) in [("a.mkv", VideoEncoder.h264, "h264"), ("b.mov", .h264, "h264"), ("c.mp4", .mpeg4, "mpeg4")] {
            let path = dir + "/" + name
            let written = try writeSyntheticVideo(path, frames: 12, options: VideoWriterOptions(encoder: encoder, preset: "ultrafast"))
            let (reader, frames) = try readAll(path)
            // Measured 37.3–44.0 dB over the frames (CRF 20 ultrafast / MPEG-4 q3).
            XCTAssertEqual(reader.info.videoCodec, codec, name)
            XCTAssertEqual(frames.count, 12, name)
            XCTAssertEqual(frames.map(\.time), (0..<12).map { Double($0) / 25 }, name)
            for (w, r) in zip(written, frames) { XCTAssertGreaterThan(psnr(w, r), 34, "\(name) frame \(w.index)") }
            print("round trip \(name): PSNR frame 0 \(psnr(written[0], frames[0])) dB")
        }
    }

    func testVariableFrameRateSurvives() throws {
        let dir = try makeTemporaryFolder(self)
        let path = dir + "/vfr.mp4"
        // Millisecond time base, irregular gaps (33, 17, 50, 100 ms …).
        let pts: [Int64] = [0, 33, 50, 100, 200, 233, 250, 300, 400, 433, 450, 500]
        try writeSyntheticVideo(path, frames: pts.count, fps: 24, timeBase: Rational(1, 1000), pts: pts)
        let (reader, frames) = try readAll(path)
        XCTAssertEqual(frames.count, pts.count)
        XCTAssertEqual(frames.map { ($0.time * 1000).rounded() }, pts.map(Double.init))
        XCTAssertFalse(reader.info.isConstantFrameRate)
        // Duration: last pts plus the last frame's duration, as the muxer stores it.
        XCTAssertEqual(reader.info.duration ?? 0, 0.5, accuracy: 0.1)
        // A range on a variable-rate stream is decoded from the start, so indices stay exact.
        let (_, part) = try readAll(path, start: .frame(3), end: .frame(6))
        XCTAssertEqual(part.map(\.index), [3, 4, 5])
        XCTAssertEqual(part.map { ($0.time * 1000).rounded() }, [100, 200, 233])
        let (_, byTime) = try readAll(path, start: .time(0.2), end: .time(0.3))
        XCTAssertEqual(byTime.map(\.index), [4, 5, 6])
    }

    func testOddSizeIsPaddedByEdgeReplication() throws {
        let dir = try makeTemporaryFolder(self)
        let path = dir + "/odd.mp4"
        let info = VideoInfo(source: "synthetic", container: "none", width: 321, height: 241, averageFPS: 25,
                             videoCodec: "rawvideo", timeBase: Rational(1, 25))
        let writer = try VideoWriter(path: path, info: info, options: VideoWriterOptions(crf: 12, preset: "ultrafast"))
        XCTAssertEqual(writer.encodedWidth, 322)
        XCTAssertEqual(writer.encodedHeight, 242)
        var written: [VideoFrame] = []
        for i in 0..<5 {
            let f = syntheticFrame(index: i, pts: Int64(i), time: Double(i) / 25, width: 321, height: 241)
            try writer.write(f)
            written.append(f)
        }
        try writer.finish()
        let (reader, frames) = try readAll(path)
        XCTAssertEqual(reader.info.width, 322)
        XCTAssertEqual(reader.info.height, 242)
        XCTAssertEqual(frames.count, 5)
        for (w, r) in zip(written, frames) {
            // The original 321×241 area is intact; the extra column/row repeat the last ones.
            var maxDiff = 0
            for y in 0..<241 {
                for c in 0..<3 {
                    maxDiff = max(maxDiff, abs(Int(r.rgb[(y * 322 + 321) * 3 + c]) - Int(r.rgb[(y * 322 + 320) * 3 + c])))
                }
            }
            for x in 0..<321 {
                for c in 0..<3 {
                    maxDiff = max(maxDiff, abs(Int(r.rgb[(241 * 322 + x) * 3 + c]) - Int(r.rgb[(240 * 322 + x) * 3 + c])))
                }
            }
            XCTAssertLessThan(maxDiff, 40, "padding must repeat the edge")
            var cropped = [UInt8]()
            for y in 0..<241 { cropped += r.rgb[(y * 322 * 3)..<(y * 322 * 3 + 321 * 3)] }
            let crop = VideoFrame(index: r.index, time: r.time, pts: r.pts, width: 321, height: 241, rgb: cropped)
            // Measured 48.1 dB at CRF 12.
            XCTAssertGreaterThan(psnr(w, crop), 42, "frame \(w.index)")
            if w.index == 0 { print("odd size: PSNR \(psnr(w, crop)) dB, edge max diff \(maxDiff)") }
        }
    }

    func testRangesByFrameAndTimeMatchTheFullDecode() throws {
        let dir = try makeTemporaryFolder(self)
        let path = dir + "/gop.mp4"
        // Key frame every 8 frames so a start inside a GOP must seek back and drop frames.
        try writeSyntheticVideo(path, frames: 40, fps: 25, options: VideoWriterOptions(preset: "ultrafast", keyframeInterval: 8))
        let (_, all) = try readAll(path)
        XCTAssertEqual(all.count, 40)
        let (_, mid) = try readAll(path, start: .frame(13), end: .frame(21))
        XCTAssertEqual(mid.map(\.index), Array(13..<21))
        for f in mid {
            XCTAssertEqual(f.pts, all[f.index].pts)
            XCTAssertEqual(f.rgb, all[f.index].rgb, "frame \(f.index) decoded after a seek differs")
        }
        let (_, timed) = try readAll(path, start: .time(0.52), end: .time(0.6))
        XCTAssertEqual(timed.map(\.index), [13, 14])
        let (_, tail) = try readAll(path, start: .frame(35))
        XCTAssertEqual(tail.map(\.index), Array(35..<40))
        let counter = try VideoReader(path, start: .frame(5), end: .frame(30))
        XCTAssertEqual(try counter.countRemaining(), 25)
    }

    func testDecodedColoursMatchTheFFmpegCLI() throws {
        guard let ffmpeg = ffmpegCLI() else { throw XCTSkip("ffmpeg CLI not installed") }
        let dir = try makeTemporaryFolder(self)
        let path = dir + "/peer.mp4"
        try writeSyntheticVideo(path, width: 160, height: 120, frames: 3)
        let raw = dir + "/peer.rgb"
        let result = try runProgram(ffmpeg, ["-v", "error", "-i", path, "-sws_flags", "bilinear+full_chroma_int+accurate_rnd",
                                             "-f", "rawvideo", "-pix_fmt", "rgb24", raw])
        XCTAssertEqual(result.status, 0, result.output)
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: raw)))
        let (_, frames) = try readAll(path)
        XCTAssertEqual(bytes.count, 3 * 160 * 120 * 3)
        for f in frames {
            let start = f.index * 160 * 120 * 3
            let peer = VideoFrame(index: f.index, time: f.time, pts: f.pts, width: 160, height: 120,
                                  rgb: Array(bytes[start..<(start + 160 * 120 * 3)]))
            // Same decoder, BT.709 matrix, limited range and swscale flags: bit-identical. (With
            // ffmpeg's default bicubic chroma the two differ by ≈ 40 dB at hard edges; decoding with
            // the wrong matrix, BT.601, gives ≈ 25 dB.)
            XCTAssertEqual(f.rgb, peer.rgb, "frame \(f.index)")
        }
    }

    func testBFramesComeOutInPresentationOrderAndSeekExactly() throws {
        let dir = try makeTemporaryFolder(self)
        let path = dir + "/bframes.mp4"
        // x264 "medium" uses B-frames (decode order ≠ presentation order); NTSC timing 30000/1001.
        let written = try writeSyntheticVideo(path, width: 96, height: 64, frames: 30, fps: 30000.0 / 1001,
                                              timeBase: Rational(1001, 30000),
                                              options: VideoWriterOptions(crf: 16, preset: "medium", keyframeInterval: 10))
        let videoPackets = try packets(in: path, audio: false)
        XCTAssertNotEqual(videoPackets.map(\.seconds), videoPackets.map(\.seconds).sorted(), "expected B-frames (reordered pts)")
        let (reader, frames) = try readAll(path)
        XCTAssertEqual(reader.info.averageFPS, 30000.0 / 1001, accuracy: 1e-6)
        XCTAssertEqual(frames.map(\.index), Array(0..<30))
        for (w, r) in zip(written, frames) {
            XCTAssertEqual(r.time, Double(w.index) * 1001 / 30000, accuracy: 1e-9)
            // The right picture in the right slot: close to its own frame (measured 27.4–40 dB at this
            // small size with B-frames), clearly farther from the neighbours.
            let own = psnr(w, r)
            XCTAssertGreaterThan(own, 25, "frame \(w.index)")
            for n in [w.index - 1, w.index + 1] where n >= 0 && n < written.count {
                XCTAssertGreaterThan(own, psnr(written[n], r) + 3, "frame \(w.index) looks like frame \(n)")
            }
        }
        let (_, part) = try readAll(path, start: .frame(14), end: .frame(19))
        XCTAssertEqual(part.map(\.index), Array(14..<19))
        for f in part { XCTAssertEqual(f.rgb, frames[f.index].rgb, "frame \(f.index)") }
    }

    func testURLInput() throws {
        let dir = try makeTemporaryFolder(self)
        let path = dir + "/clip.mkv"
        try writeSyntheticVideo(path, frames: 6)
        let (reader, frames) = try readAll("file://" + path)
        XCTAssertEqual(frames.count, 6)
        XCTAssertNil(reader.info.frameCount)   // Matroska, like live streams, does not state a frame count
        XCTAssertThrowsError(try VideoReader("file://" + dir + "/missing.mkv")) { error in
            guard case let .notMedia(p, _)? = error as? VideoError else { return XCTFail("\(error)") }
            XCTAssertEqual(p, "file://" + dir + "/missing.mkv")
        }
    }

    func testOtherCodecsAndContainersFromTheFFmpegCLI() throws {
        // VP9/WebM, HEVC/MP4, MJPEG/AVI and MPEG-4/AVI, made by the ffmpeg CLI from a near-lossless
        // master. Measured lowest PSNR vs written: vp9 33.3, hevc 33.0, AVI 26.8–26.9 dB.
        guard let ffmpeg = ffmpegCLI() else { throw XCTSkip("ffmpeg CLI not installed") }
        let dir = try makeTemporaryFolder(self)
        let master = dir + "/master.mkv"
        let written = try writeSyntheticVideo(master, width: 96, height: 64, frames: 10, options: VideoWriterOptions(crf: 0, preset: "ultrafast"))
        let variants: [(String, [String], String)] = [
            ("vp9.webm", ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-crf", "20", "-b:v", "0"], "vp9"),
            ("hevc.mp4", ["-c:v", "libx265", "-preset", "ultrafast", "-crf", "18", "-x265-params", "log-level=error"], "hevc"),
            ("mjpeg.avi", ["-c:v", "mjpeg", "-q:v", "2"], "mjpeg"),
            ("mpeg4.avi", ["-c:v", "mpeg4", "-q:v", "2"], "mpeg4"),
        ]
        for (name, args, codec) in variants {
            let out = dir + "/" + name
            let r = try runProgram(ffmpeg, ["-v", "error", "-i", master] + args + [out])
            guard r.status == 0 else { print("skipping \(name): \(r.output)"); continue }
            let (reader, frames) = try readAll(out)
            XCTAssertEqual(reader.info.videoCodec, codec, name)
            XCTAssertEqual(frames.count, 10, name)
            XCTAssertEqual(frames.map(\.index), Array(0..<10), name)
            // The independent peer: ffmpeg's own RGB decode of the same file, told to convert with
            // the same swscale flags as RGBConverter (its default is bicubic without full chroma).
            let raw = out + ".rgb"
            let d = try runProgram(ffmpeg, ["-v", "error", "-i", out, "-sws_flags", "bilinear+full_chroma_int+accurate_rnd", "-f", "rawvideo", "-pix_fmt", "rgb24", raw])
            XCTAssertEqual(d.status, 0, d.output)
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: raw)))
            XCTAssertEqual(bytes.count, 10 * 96 * 64 * 3, name)
            var lowest = Double.infinity
            for (w, f) in zip(written, frames) where bytes.count == 10 * 96 * 64 * 3 {
                XCTAssertEqual(f.time, Double(w.index) / 25, accuracy: 1e-3, name)
                let o = f.index * 96 * 64 * 3
                let peer = VideoFrame(index: f.index, time: f.time, pts: f.pts, width: 96, height: 64, rgb: Array(bytes[o..<(o + 96 * 64 * 3)]))
                lowest = min(lowest, psnr(w, f))
                // With our swscale flags, ffmpeg's decode is bit-identical (same decoder, matrix, range).
                XCTAssertEqual(peer.rgb, f.rgb, "\(name) frame \(w.index) differs from ffmpeg's decode")
                // Close to what was written: ≥ 30 dB when the colour matrix tag survives; AVI drops
                // the BT.709 tag, so it decodes as BT.601 (as ffmpeg does too): measured 26.8–27.8 dB.
                XCTAssertGreaterThan(psnr(w, f), name.hasSuffix(".avi") ? 25 : 30, "\(name) frame \(w.index)")
            }
            print("\(name): lowest PSNR vs written \(lowest) dB")
        }
    }
}
