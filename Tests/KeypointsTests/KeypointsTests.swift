import Foundation
import Keypoints
import XCTest

final class KeypointsTests: XCTestCase {
    func testSchemasAreConsistent() {
        for schema in KeypointSchema.all {
            XCTAssertEqual(schema.keypoints.count, 17)
            XCTAssertEqual(schema.keypointColors.count, schema.keypoints.count, schema.name)
            XCTAssertEqual(schema.linkColors.count, schema.skeleton.count, schema.name)
            for link in schema.skeleton + schema.flipPairs {
                XCTAssertEqual(link.count, 2)
                XCTAssertTrue(link.allSatisfy { (0..<17).contains($0) })
            }
            // Flip pairs swap left and right names.
            for pair in schema.flipPairs {
                let a = schema.keypoints[pair[0]], b = schema.keypoints[pair[1]]
                XCTAssertEqual(a.replacingOccurrences(of: "left", with: "right"), b)
            }
        }
        // PoseTrack18's slots 1/2 are head_bottom/head_top: never flipped, never eyes.
        XCTAssertFalse(KeypointSchema.posetrack18.flipPairs.contains([1, 2]))
        XCTAssertTrue(KeypointSchema.coco17.flipPairs.contains([1, 2]))
        XCTAssertEqual(KeypointSchema.posetrack18.evaluated.count, 15)
        XCTAssertEqual(KeypointSchema.named("COCO17"), .coco17)
    }

    func testFrameLineRoundTripsWithStableKeyOrder() throws {
        let frame = FrameKeypoints(frame: 3, time: 0.1, persons: [
            PersonPose(trackID: 7, bbox: [10, 20.5, 30, 40], bboxScore: 0.93, score: 0.81,
                       keypoints: Array(repeating: [1.25, 2, 0.5], count: 17)),
            PersonPose(bbox: [0, 0, 1, 1], score: 0.2, keypoints: []),
        ])
        let line = KeypointStream.encode(frame)
        XCTAssertTrue(line.hasPrefix("{\"frame\":3,\"time\":0.1,\"persons\":[{\"track_id\":7,\"bbox\":[10,20.5,30,40],\"bbox_score\":0.93,"), line)
        XCTAssertFalse(line.contains("\n"))
        XCTAssertEqual(try KeypointStream.decode(line: line), .frame(frame))
    }

    func testHeaderRoundTripsAndIsRecognised() throws {
        let header = KeypointStreamHeader(schema: .posetrack18, video: .init(width: 1280, height: 720, fps: 30, frames: 5))
        let line = KeypointStream.encode(header)
        guard case let .header(back) = try KeypointStream.decode(line: line) else { return XCTFail("not a header") }
        XCTAssertEqual(back, header)
        XCTAssertEqual(back.knownSchema, .posetrack18)
    }

    func testMalformedLinesNameFileAndLine() throws {
        let path = NSTemporaryDirectory() + "/stream-\(UUID().uuidString).jsonl"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "{\"frame\":0,\"time\":0,\"persons\":[]}\n{\"frame\":1,\"persons\":[]}\n".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try KeypointStream.read(path: path)) { error in
            XCTAssertEqual("\(error)", "\(path):2: not a keypoint stream line: missing \"time\"")
        }
        try "{\"frame\":0,\"time\":0,\"persons\":[{\"bbox\":[1,2,3],\"score\":1,\"keypoints\":[]}]}\n".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try KeypointStream.read(path: path)) { error in
            XCTAssertTrue("\(error)".contains("bbox must be [x,y,w,h]"), "\(error)")
        }
        try "[1,2]\n".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try KeypointStream.read(path: path))
        XCTAssertThrowsError(try KeypointStream.read(path: "/nonexistent.jsonl"))
    }

    /// Found by Tools/fuzz KeypointStreamFuzz: a huge score in a stream (1.1e37) trapped converting to
    /// Int64 when encoded again. Every finite number encodes and reads back.
    func testHugeNumbersEncodeAsValidJSON() throws {
        for x in [1.1111111111111111e37, -3e300, 1e15, 999_999_999_999_999.5, 123456.00001, 1.7976931348623157e308] {
            let frame = FrameKeypoints(frame: 0, time: 0, persons: [PersonPose(bbox: [0, 0, 1, 1], score: x, keypoints: [[x, 1, 2]])])
            guard case let .frame(back) = try KeypointStream.decode(line: KeypointStream.encode(frame)) else { return XCTFail("\(x)") }
            XCTAssertEqual(back.persons[0].keypoints[0][0], x, accuracy: abs(x) * 1e-12 + 1e-4, "\(x)")
        }
    }
}
