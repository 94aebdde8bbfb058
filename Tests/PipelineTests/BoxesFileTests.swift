import Foundation
import XCTest
@testable import Pipeline

final class BoxesFileTests: XCTestCase {
    func write(_ json: String) throws -> String {
        let path = NSTemporaryDirectory() + "boxes-\(UUID().uuidString).json"
        try json.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func testCOCODetectionsByFrameIndexWithThresholdAndCategory() throws {
        let path = try write("""
        [{"image_id":0,"bbox":[10,20,30,40],"score":0.9,"category_id":1},
         {"image_id":0,"bbox":[0,0,5,5],"score":0.1,"category_id":1},
         {"image_id":2,"bbox":[1,2,3,4],"score":0.5,"category_id":1},
         {"image_id":2,"bbox":[1,2,3,4],"score":0.9,"category_id":3}]
        """)
        let f = try BoxesFile(path: path, input: "clip.mp4", scoreThreshold: 0.2, nmsThreshold: nil)
        XCTAssertEqual(f.mapping, .frameIndex)
        XCTAssertEqual(f.boxes[0], [PersonBox(x: 10, y: 20, width: 30, height: 40, score: 0.9)])
        XCTAssertNil(f.boxes[1])
        XCTAssertEqual(f.boxes[2], [PersonBox(x: 1, y: 2, width: 3, height: 4, score: 0.5)])
    }

    func testPoseTrackIDsPickTheInputsVideo() throws {
        // Two videos in one file (as PoseTrack's val_boxes.json); the input name selects video 000342.
        let path = try write("""
        [{"image_id":10003420000,"bbox":[1,1,10,10],"score":0.9,"category_id":1},
         {"image_id":10003420004,"bbox":[2,2,10,10],"score":0.8,"category_id":1},
         {"image_id":10000010004,"bbox":[3,3,10,10],"score":0.8,"category_id":1}]
        """)
        let f = try BoxesFile(path: path, input: "/data/000342_mpii_test.mp4", scoreThreshold: 0.2, nmsThreshold: nil)
        XCTAssertEqual(f.mapping, .poseTrackID)
        XCTAssertEqual(f.boxes.keys.sorted(), [0, 4])
        XCTAssertEqual(f.boxes[4]?.first?.x, 2)
        XCTAssertThrowsError(try BoxesFile(path: path, input: "walk.mp4", scoreThreshold: 0.2, nmsThreshold: nil)) { e in
            XCTAssertTrue("\(e)".contains("PoseTrack ids cover 2 videos"), "\(e)")
        }
        XCTAssertEqual(BoxesFile.poseTrackFrameID(video: 342, frame: 4), 10003420004)
    }

    func testOfficialImageNameFormByFolderFileNamesAndByNumber() throws {
        let path = try write("""
        [{"image_name":"images/val/000342_mpii_test/000001.jpg","bbox":[1,1,10,10],"score":0.9,"category_id":1,"nframes":3,"frame_id":10003420001},
         {"image_name":"images/val/000342_mpii_test/000003.jpg","bbox":[2,2,10,10],"score":0.9,"category_id":1,"nframes":3,"frame_id":10003420003}]
        """)
        // An image folder whose frames start at 000001.jpg: matched by file name, not by number.
        let byName = try BoxesFile(path: path, input: "frames/", frameNames: ["000001.jpg", "000002.jpg", "000003.jpg"],
                                   scoreThreshold: 0.2, nmsThreshold: nil)
        XCTAssertEqual(byName.mapping, .fileName)
        XCTAssertEqual(byName.boxes.keys.sorted(), [0, 2])
        // A video: the file name's number is the frame index.
        let byNumber = try BoxesFile(path: path, input: "v.mp4", scoreThreshold: 0.2, nmsThreshold: nil)
        XCTAssertEqual(byNumber.boxes.keys.sorted(), [1, 3])
    }

    func testNMSKeepsTheBestOfOverlappingBoxes() throws {
        let path = try write("""
        [{"image_id":0,"bbox":[0,0,10,10],"score":0.6},
         {"image_id":0,"bbox":[1,0,10,10],"score":0.9},
         {"image_id":0,"bbox":[50,50,10,10],"score":0.3}]
        """)
        let f = try BoxesFile(path: path, input: "v.mp4", scoreThreshold: 0.2, nmsThreshold: 0.5)
        XCTAssertEqual(f.boxes[0]?.map(\.x), [1, 50])
    }

    func testBadFilesAreNamed() throws {
        XCTAssertThrowsError(try BoxesFile(path: "/nonexistent.json", input: "v", scoreThreshold: 0, nmsThreshold: nil)) {
            XCTAssertTrue("\($0)".hasPrefix("/nonexistent.json: cannot read boxes file"), "\($0)")
        }
        let notJSON = try write("hello")
        XCTAssertThrowsError(try BoxesFile(path: notJSON, input: "v", scoreThreshold: 0, nmsThreshold: nil)) {
            XCTAssertEqual("\($0)", "\(notJSON): boxes file is not valid JSON")
        }
        let badBox = try write("[{\"image_id\":0,\"bbox\":[1,2,3],\"score\":1}]")
        XCTAssertThrowsError(try BoxesFile(path: badBox, input: "v", scoreThreshold: 0, nmsThreshold: nil)) {
            XCTAssertEqual("\($0)", "\(badBox): entry 0: \"bbox\" must be [x, y, w, h]")
        }
        let noImage = try write("[{\"bbox\":[1,2,3,4],\"score\":1}]")
        XCTAssertThrowsError(try BoxesFile(path: noImage, input: "v", scoreThreshold: 0, nmsThreshold: nil)) {
            XCTAssertEqual("\($0)", "\(noImage): entry 0: needs \"image_id\" or \"image_name\"")
        }
    }

    /// The README lists image file names as ids: a string `image_id` that is not a number is one.
    func testStringImageIDsAreImageFileNames() throws {
        let path = try write("""
        [{"image_id":"000000.jpg","bbox":[1,2,3,4],"score":0.9,"category_id":1},
         {"image_id":"images/val/000002.jpg","bbox":[5,6,7,8],"score":0.9,"category_id":1}]
        """)
        let f = try BoxesFile(path: path, input: "frames", frameNames: ["000000.jpg", "000001.jpg", "000002.jpg"],
                              scoreThreshold: 0.2, nmsThreshold: nil)
        XCTAssertEqual(f.mapping, .fileName)
        XCTAssertEqual(f.boxes[0]?.first?.x, 1)
        XCTAssertEqual(f.boxes[2]?.first?.x, 5)
        XCTAssertThrowsError(try BoxesFile(path: try write(#"[{"image_id":"","bbox":[1,2,3,4]}]"#), input: "x.mp4",
                                           scoreThreshold: 0.2, nmsThreshold: nil)) { e in
            XCTAssertTrue("\(e)".contains("integer or an image file name"), "\(e)")
        }
    }

    func testAMissingBoxesFileSaysSoInPlainWords() {
        XCTAssertThrowsError(try BoxesFile(path: "/nonexistent/b.json", input: "x.mp4", scoreThreshold: 0.2, nmsThreshold: nil)) { e in
            XCTAssertEqual("\(e)", "/nonexistent/b.json: cannot read boxes file: No such file or directory")
        }
    }

    /// Found by Tools/fuzz BoxesFileFuzz: this image name trapped in Foundation's lastPathComponent.
    func testOddImageNamesDoNotCrashTheReader() throws {
        let name = "+00P004.j" + String(repeating: "/", count: 28) + "?" + String(repeating: "/", count: 53)
        let path = try write(#"[{"image_id":"\#(name)","bbox":[0,0,5,5],"score":0.5}]"#)
        let f = try BoxesFile(path: path, input: "x.mp4", scoreThreshold: 0.2, nmsThreshold: nil)
        XCTAssertEqual(f.mapping, .fileName)
        XCTAssertEqual(BoxesFile.fileName(of: "images/val/000002.jpg"), "000002.jpg")
        XCTAssertEqual(BoxesFile.fileName(of: "a/b/"), "b")
    }
}
