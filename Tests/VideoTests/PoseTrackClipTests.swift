import XCTest
import Keypoints
@testable import Video

/// The shared real clip: an MPEG-4 Part 2 mp4 and the same five frames as JPEG files.
final class PoseTrackClipTests: XCTestCase {
    func testMP4AndJPEGFolderGiveTheSameFiveFrames() throws {
        guard let clip = posetrackClip() else { throw XCTSkip("../shared/data/posetrack18-clip is absent") }
        let (mp4Reader, mp4) = try readAll(clip + "/000001_mpiinew_test.mp4")
        let (folderReader, jpg) = try readAll(clip, options: VideoReaderOptions(imageSequenceFPS: 30))
        XCTAssertEqual(mp4Reader.info.width, 1280)
        XCTAssertEqual(mp4Reader.info.height, 720)
        XCTAssertEqual(mp4Reader.info.videoCodec, "mpeg4")
        XCTAssertEqual(mp4Reader.info.averageFPS, 30, accuracy: 1e-9)
        XCTAssertEqual(mp4Reader.info.frameCount, 5)
        XCTAssertFalse(mp4Reader.info.hasAudio)
        XCTAssertEqual(folderReader.info.frameCount, 5)
        XCTAssertEqual(folderReader.info.videoCodec, "mjpeg")
        XCTAssertEqual(mp4.map(\.index), [0, 1, 2, 3, 4])
        XCTAssertEqual(jpg.map(\.index), [0, 1, 2, 3, 4])
        XCTAssertEqual(mp4.map(\.time), [0, 1, 2, 3, 4].map { Double($0) / 30 })
        XCTAssertNil(mp4Reader.stopReason)
        XCTAssertNil(folderReader.stopReason)
        // Both are lossy encodings of the same pictures: measured 40.0–41.0 dB; below 35 dB would mean a wrong
        // colour matrix/range, a shifted frame or a different frame order.
        for (a, b) in zip(mp4, jpg) {
            XCTAssertEqual(a.width, b.width)
            XCTAssertEqual(a.height, b.height)
            let p = psnr(a, b)
            XCTAssertGreaterThan(p, 35, "frame \(a.index): PSNR \(p) dB")
            // A neighbouring frame must match worse than the same frame (the order is right).
            if a.index + 1 < jpg.count { XCTAssertGreaterThan(p, psnr(a, jpg[a.index + 1])) }
            print("posetrack frame \(a.index): PSNR mp4 vs jpg \(p) dB")
        }
    }

    func testOverlayOnTheRealClipFromBothSources() throws {
        guard let clip = posetrackClip() else { throw XCTSkip("../shared/data/posetrack18-clip is absent") }
        let dir = try makeTemporaryFolder(self)
        // One person whose left forearm (7 → 9) runs across the field on every frame.
        var k = Array(repeating: [0.0, 0.0, 0.0], count: 17)
        k[7] = [400, 300, 0.9]; k[9] = [600, 300, 0.9]
        let stream = (0..<5).map { FrameKeypoints(frame: $0, time: Double($0) / 30,
                                                   persons: [PersonPose(trackID: 4, bbox: [380, 250, 240, 100], score: 0.9, keypoints: k)]) }
        for (name, input) in [("mp4", clip + "/000001_mpiinew_test.mp4"), ("jpg", clip)] {
            let output = dir + "/\(name).mp4"
            let report = try KeypointOverlay.render(input: input, keypoints: stream, schema: .coco17, output: output,
                                                    style: RenderStyle(thickness: 8), writerOptions: VideoWriterOptions(crf: 16, preset: "ultrafast"),
                                                    readerOptions: VideoReaderOptions(imageSequenceFPS: 30))
            XCTAssertEqual(report.framesWritten, 5)
            XCTAssertEqual(report.framesWithKeypoints, 5)
            let (reader, frames) = try readAll(output)
            XCTAssertEqual(reader.info.width, 1280)
            XCTAssertEqual(frames.map(\.time), (0..<5).map { Double($0) / 30 })
            for f in frames {
                let p = f.pixel(500, 300)
                XCTAssertTrue(p[0] < 50 && p[1] > 200 && p[2] < 50, "\(name) frame \(f.index): forearm pixel \(p)")
            }
        }
    }
}
