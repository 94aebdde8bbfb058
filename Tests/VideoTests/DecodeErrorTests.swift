import XCTest
@testable import Video

/// Bad inputs give a clear VideoError naming the file, never a crash.
final class DecodeErrorTests: XCTestCase {
    func testMissingFile() {
        XCTAssertThrowsError(try VideoReader("/nonexistent/clip.mp4")) { error in
            XCTAssertEqual(error as? VideoError, .missingFile("/nonexistent/clip.mp4"))
            XCTAssertTrue("\(error)".contains("/nonexistent/clip.mp4"))
        }
    }

    func testTextFileNamedMP4IsNotMedia() throws {
        let dir = try makeTemporaryFolder(self)
        let path = dir + "/notes.mp4"
        try String(repeating: "this is not a video, just text\n", count: 50).write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try VideoReader(path)) { error in
            guard case let .notMedia(p, _)? = error as? VideoError else { return XCTFail("\(error)") }
            XCTAssertEqual(p, path)
            XCTAssertTrue("\(error)".contains("not a media file"), "\(error)")
        }
    }

    func testEmptyFolderAndUnmatchedPattern() throws {
        let dir = try makeTemporaryFolder(self)
        XCTAssertThrowsError(try VideoReader(dir)) { XCTAssertEqual($0 as? VideoError, .emptySequence(dir)) }
        XCTAssertThrowsError(try VideoReader(dir + "/%06d.jpg")) { XCTAssertEqual($0 as? VideoError, .emptySequence(dir + "/%06d.jpg")) }
    }

    func testInvalidRanges() throws {
        guard let clip = posetrackClip() else { throw XCTSkip("../shared/data/posetrack18-clip is absent") }
        let mp4 = clip + "/000001_mpiinew_test.mp4"
        XCTAssertThrowsError(try VideoReader(mp4, start: .frame(-1)))
        XCTAssertThrowsError(try VideoReader(mp4, start: .frame(5)))   // only 0…4 exist
        XCTAssertThrowsError(try VideoReader(mp4, start: .frame(3), end: .frame(3)))
        XCTAssertThrowsError(try VideoReader(mp4, start: .time(0.1), end: .time(0.05)))
    }
}
