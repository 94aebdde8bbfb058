import XCTest
@testable import Video

/// The output is either a complete video or absent: never a half-written file at the target path.
final class WriterFinalizationTests: XCTestCase {
    private let info = VideoInfo(source: "synthetic", container: "none", width: 64, height: 48, averageFPS: 25,
                                 videoCodec: "rawvideo", timeBase: Rational(1, 25))

    private func frame(_ i: Int) -> VideoFrame { syntheticFrame(index: i, pts: Int64(i), time: Double(i) / 25, width: 64, height: 48) }

    private func visibleFiles(_ dir: String) throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: dir).sorted() }

    func testAbortRemovesEverythingAndKeepsAnExistingTarget() throws {
        let dir = try makeTemporaryFolder(self)
        let path = dir + "/out.mp4"
        try "previous render".write(toFile: path, atomically: true, encoding: .utf8)
        let writer = try VideoWriter(path: path, info: info, options: VideoWriterOptions(preset: "ultrafast"))
        for i in 0..<5 { try writer.write(frame(i)) }
        XCTAssertTrue(FileManager.default.fileExists(atPath: writer.temporaryPath))
        writer.abort()
        writer.abort()   // idempotent
        XCTAssertEqual(try visibleFiles(dir), ["out.mp4"])
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "previous render")
        XCTAssertThrowsError(try writer.write(frame(5)))
        XCTAssertThrowsError(try writer.finish())
    }

    func testDroppedWriterLeavesNothing() throws {
        let dir = try makeTemporaryFolder(self)
        do {
            let writer = try VideoWriter(path: dir + "/out.mkv", info: info, options: VideoWriterOptions(preset: "ultrafast"))
            try writer.write(frame(0))
        }
        XCTAssertEqual(try visibleFiles(dir), [])
    }

    func testWrongFrameSizeIsAnErrorAndAbortCleansUp() throws {
        let dir = try makeTemporaryFolder(self)
        let writer = try VideoWriter(path: dir + "/out.mp4", info: info, options: VideoWriterOptions(preset: "ultrafast"))
        try writer.write(frame(0))
        let wrong = syntheticFrame(index: 1, pts: 1, time: 0.04, width: 32, height: 48)
        XCTAssertThrowsError(try writer.write(wrong)) { error in
            guard case .frameMismatch? = error as? VideoError else { return XCTFail("\(error)") }
            XCTAssertTrue("\(error)".contains("out.mp4"))
        }
        writer.abort()
        XCTAssertEqual(try visibleFiles(dir), [])
    }

    func testFinishWithoutFramesFailsAndLeavesNothing() throws {
        let dir = try makeTemporaryFolder(self)
        let writer = try VideoWriter(path: dir + "/out.mp4", info: info)
        XCTAssertThrowsError(try writer.finish())
        XCTAssertEqual(try visibleFiles(dir), [])
    }

    func testFinishedFileReplacesTargetAndIsComplete() throws {
        let dir = try makeTemporaryFolder(self)
        let path = dir + "/out.mp4"
        try "old".write(toFile: path, atomically: true, encoding: .utf8)
        let writer = try VideoWriter(path: path, info: info, options: VideoWriterOptions(preset: "ultrafast"))
        for i in 0..<7 { try writer.write(frame(i)) }
        try writer.finish()
        try writer.finish()   // a second finish is a no-op
        XCTAssertEqual(try visibleFiles(dir), ["out.mp4"])
        let reader = try VideoReader(path)
        XCTAssertEqual(try reader.countRemaining(), 7)
        XCTAssertNil(reader.stopReason)
    }

    func testUnwritableOutputsAreClearErrors() throws {
        XCTAssertThrowsError(try VideoWriter(path: "/nonexistent-folder/out.mp4", info: info)) { error in
            guard case .unwritable? = error as? VideoError else { return XCTFail("\(error)") }
            XCTAssertTrue("\(error)".contains("/nonexistent-folder/out.mp4"))
        }
        let dir = try makeTemporaryFolder(self)
        XCTAssertThrowsError(try VideoWriter(path: dir + "/out.xyz", info: info)) {
            XCTAssertEqual($0 as? VideoError, .unsupportedContainer(dir + "/out.xyz"))
        }
        XCTAssertThrowsError(try VideoWriter(path: dir + "/out.mp4", info: info, options: VideoWriterOptions(preset: "warp9")))
        XCTAssertEqual(try visibleFiles(dir), [])
    }
}
