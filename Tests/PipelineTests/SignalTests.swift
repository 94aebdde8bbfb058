import Failures
import Foundation
import Keypoints
import XCTest
@testable import Pipeline
@testable import Video

/// SIGINT and SIGTERM at random moments, once or twice, with all four outputs (a few runs here;
/// `Tools/signal-loop.sh` runs the long loop): every output left is valid and consistent with the
/// others, the video's audio ends with its last frame, no temporary file is left, and the exit code
/// says which signal stopped the run.
final class SignalTests: XCTestCase {
    func testSignalsAtRandomMomentsLeaveValidConsistentOutputsAndNoDebris() throws {
        let walker = Fixtures.packageRoot.appendingPathComponent("Samples/walker.mp4").path
        var generator = SystemRandomNumberGenerator()
        let cases: [(Int32, Bool)] = [(SIGINT, false), (SIGTERM, false), (SIGINT, true), (SIGTERM, true)]
        for (n, (signal, twice)) in cases.enumerated() {
            let dir = Fixtures.scratch("signals\(n)")
            let pipeline = try Fixtures.tinyPipeline(in: dir)
            let k = dir + "/k.jsonl", c = dir + "/c.json", p = dir + "/p.json", v = dir + "/v.mp4"
            let (process, err) = try CLITests.launch(["run", walker, "--pipeline", pipeline, "--whole-frame", "--threads", "1",
                                                      "--keypoints", k, "--coco", c, "--posetrack", p, "--video", v])
            // Between model loading and the middle of the clip.
            Thread.sleep(forTimeInterval: Double.random(in: 0.05...1.5, using: &generator))
            kill(process.processIdentifier, signal)
            if twice {
                Thread.sleep(forTimeInterval: Double.random(in: 0...0.05, using: &generator))
                kill(process.processIdentifier, signal)
            }
            let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            let context = "signal \(signal) twice \(twice): \(stderr)"
            if process.terminationReason == .uncaughtSignal {
                // Only a signal before the process installed its handlers, when nothing exists yet.
                XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["pipeline.yml"], context)
                continue
            }
            let code = process.terminationStatus
            XCTAssertTrue(code == ExitStatus.code(forSignal: signal) || code == ExitStatus.ok, context)
            XCTAssertEqual(OutputSafetyTests.debris(dir), [], context)
            if code == ExitStatus.ok { continue }   // the run finished before the signal
            guard FileManager.default.fileExists(atPath: k) else {   // stopped before any output began
                XCTAssertFalse(FileManager.default.fileExists(atPath: c) || FileManager.default.fileExists(atPath: p), context)
                continue
            }
            let frames = try KeypointStream.read(path: k).frames
            XCTAssertEqual(frames.map(\.frame), Array(0..<frames.count), context)
            // COCO and PoseTrack files exist only when every frame was done (a second signal can
            // come after they were finished, while the video was still being completed).
            if FileManager.default.fileExists(atPath: c) || FileManager.default.fileExists(atPath: p) {
                XCTAssertTrue(twice && frames.count == 100, context)
                let coco = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: c))) as! [Any]
                XCTAssertEqual(coco.count, frames.count, context)
                let pt = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: p))) as! [String: Any]
                XCTAssertEqual((pt["images"] as! [Any]).count, frames.count, context)
            }
            if FileManager.default.fileExists(atPath: v) {
                XCTAssertEqual(try OutputSafetyTests.checkVideo(v, audioSource: walker), frames.count, context)
            } else {
                XCTAssertTrue(twice || frames.isEmpty, "the video is missing after one signal: \(context)")
            }
        }
    }
}
