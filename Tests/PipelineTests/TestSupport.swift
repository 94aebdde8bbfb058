import Foundation
import Keypoints
import Video
import XCTest
@testable import Pipeline

/// Paths of the package and its fixtures, found from this file so tests run from any directory.
enum Fixtures {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    /// The models helper's tiny random-weight checkpoints (Tools/reference/make_model_fixtures.py).
    static let tinyPoseWarper = packageRoot.appendingPathComponent("Tests/ModelsTests/Fixtures/tiny_posewarper.pth").path
    static let tinyTopDown = packageRoot.appendingPathComponent("Tests/ModelsTests/Fixtures/tiny_topdown.pth").path
    /// The 6-frame clip, boxes, pipeline and PyTorch keypoints of Tools/reference/make_pipeline_fixtures.py.
    static let window6 = packageRoot.appendingPathComponent("Tests/PipelineTests/Fixtures/window6").path
    static let tinyPipeline = window6 + "/pipeline.yml"
    /// The real PoseTrack18 clip, present on the development machines and in CI next to the clone.
    /// (`<root>/../shared`; a helper's worktree sits one level deeper, so `<root>/../../shared` too.)
    static let realClip: String = {
        let candidates = [packageRoot.deletingLastPathComponent(), packageRoot.deletingLastPathComponent().deletingLastPathComponent()]
            .map { $0.appendingPathComponent("shared/data/posetrack18-clip").path }
        return candidates.first { FileManager.default.fileExists(atPath: $0) } ?? candidates[0]
    }()

    /// A fresh empty folder for one test's files.
    static func scratch(_ name: String = #function) -> String {
        let clean = name.filter { $0.isLetter || $0.isNumber }
        let dir = NSTemporaryDirectory() + "posewarper-pipeline-\(ProcessInfo.processInfo.processIdentifier)/\(clean)"
        try? FileManager.default.removeItem(atPath: dir)
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Writes an H.264/MPEG-4 test video with the project's own writer: a textured background and a
    /// bright block moving right, `count` frames at 25 fps.
    static func makeVideo(_ path: String, frames count: Int, width: Int = 96, height: Int = 80) throws {
        let info = VideoInfo(source: "generated", container: "memory", width: width, height: height, averageFPS: 25,
                             frameCount: count, videoCodec: "rawvideo", timeBase: Rational(1, 25))
        let writer = try VideoWriter(path: path, info: info, options: VideoWriterOptions(crf: 18, preset: "ultrafast"))
        for t in 0..<count {
            var rgb = [UInt8](repeating: 0, count: width * height * 3)
            for y in 0..<height {
                for x in 0..<width {
                    let o = (y * width + x) * 3
                    let inBlock = abs(x - (10 + 2 * t % (width - 20))) < 8 && abs(y - height / 2) < 20
                    rgb[o] = inBlock ? 250 : UInt8((x * 3 + t) & 255)
                    rgb[o + 1] = inBlock ? 240 : UInt8((y * 2) & 255)
                    rgb[o + 2] = inBlock ? 230 : UInt8((x + y) & 255)
                }
            }
            try writer.write(VideoFrame(index: t, time: Double(t) / 25, pts: Int64(t), width: width, height: height, rgb: rgb))
        }
        try writer.finish()
    }

    /// A copy of the tiny pipeline with its relative paths made absolute and some lines replaced.
    static func tinyPipeline(in dir: String, replacing: [String: String] = [:]) throws -> String {
        var text = try String(contentsOfFile: tinyPipeline, encoding: .utf8)
        text = text.replacingOccurrences(of: "../../../ModelsTests/Fixtures/tiny_posewarper.pth", with: tinyPoseWarper)
        text = text.replacingOccurrences(of: "boxes_file: boxes.json", with: "boxes_file: \(window6)/boxes.json")
        for (a, b) in replacing { text = text.replacingOccurrences(of: a, with: b) }
        let path = dir + "/pipeline.yml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}

/// Collects every frame a run writes.
final class Collected: PoseOutput {
    var frames: [FrameKeypoints] = []
    var run: RunDescription?
    func begin(_ run: RunDescription) throws { self.run = run }
    func write(_ frame: FrameResult) throws { frames.append(frame.keypoints) }
    func finish() throws {}
    func abort() {}
}
