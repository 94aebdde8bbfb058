import XCTest
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
}
