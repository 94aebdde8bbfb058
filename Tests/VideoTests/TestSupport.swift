import Foundation
import XCTest
@testable import Video

/// A fresh temporary folder for one test, removed at the end of the test.
func makeTemporaryFolder(_ test: XCTestCase) throws -> String {
    let path = NSTemporaryDirectory() + "posewarper-video-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
    return path
}

/// The package root (two folders above this file's folder).
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

/// `<package root>/../shared/data/posetrack18-clip` (CI layout; `../../shared` for a worktree under
/// `wt/`), or nil when the shared data is absent.
func posetrackClip() -> String? {
    for up in ["../shared", "../../shared"] {
        let path = (packageRoot as NSString).appendingPathComponent(up + "/data/posetrack18-clip")
        if FileManager.default.fileExists(atPath: path + "/000000.jpg") { return (path as NSString).standardizingPath }
    }
    return nil
}

/// The `ffmpeg` CLI, when installed (used only as an independent peer).
func ffmpegCLI() -> String? {
    for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":") {
        let p = "\(dir)/ffmpeg"
        if FileManager.default.isExecutableFile(atPath: p) { return p }
    }
    return nil
}

/// Runs a program and returns its exit status and combined output.
@discardableResult
func runProgram(_ program: String, _ args: [String]) throws -> (status: Int32, output: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: program)
    p.arguments = args
    let pipe = Pipe()
    p.standardOutput = pipe
    p.standardError = pipe
    try p.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// Reads every frame of a source.
func readAll(_ source: String, start: FramePosition? = nil, end: FramePosition? = nil,
             options: VideoReaderOptions = .init()) throws -> (VideoReader, [VideoFrame]) {
    let reader = try VideoReader(source, start: start, end: end, options: options)
    var frames: [VideoFrame] = []
    while let f = try reader.next() { frames.append(f) }
    return (reader, frames)
}

/// PSNR in dB between two equally sized RGB frames (peak 255).
func psnr(_ a: VideoFrame, _ b: VideoFrame) -> Double {
    precondition(a.rgb.count == b.rgb.count)
    var sum = 0.0
    for i in 0..<a.rgb.count {
        let d = Double(a.rgb[i]) - Double(b.rgb[i])
        sum += d * d
    }
    let mse = sum / Double(a.rgb.count)
    return mse == 0 ? .infinity : 10 * log10(255 * 255 / mse)
}

/// A smooth moving test picture: gradients plus a bright square that moves with `index`, so frames
/// differ from each other and compress well (round-trip PSNR is then meaningful).
func syntheticFrame(index: Int, pts: Int64, time: Double, width: Int, height: Int) -> VideoFrame {
    var rgb = [UInt8](repeating: 0, count: width * height * 3)
    let sx = (index * 7) % max(1, width - 16), sy = (index * 5) % max(1, height - 16)
    for y in 0..<height {
        for x in 0..<width {
            let o = (y * width + x) * 3
            let inSquare = x >= sx && x < sx + 16 && y >= sy && y < sy + 16
            rgb[o] = inSquare ? 250 : UInt8((x * 255) / max(1, width - 1))
            rgb[o + 1] = inSquare ? 240 : UInt8((y * 255) / max(1, height - 1))
            rgb[o + 2] = UInt8((index * 8 + (x + y) / 4) % 256)
        }
    }
    return VideoFrame(index: index, time: time, pts: pts, width: width, height: height, rgb: rgb)
}

/// Writes a synthetic clip with the project's own encoder; `pts` in units of `timeBase` (default:
/// one tick per frame at `fps`). Returns the frames written.
@discardableResult
func writeSyntheticVideo(_ path: String, width: Int = 160, height: Int = 120, frames: Int = 20, fps: Double = 25,
                         timeBase: Rational? = nil, pts: [Int64]? = nil,
                         options: VideoWriterOptions = VideoWriterOptions(preset: "ultrafast")) throws -> [VideoFrame] {
    let tb = timeBase ?? Rational(1, Int32(fps.rounded()))
    let info = VideoInfo(source: "synthetic", container: "none", width: width, height: height, averageFPS: fps,
                         videoCodec: "rawvideo", timeBase: tb)
    let writer = try VideoWriter(path: path, info: info, options: options)
    var written: [VideoFrame] = []
    for i in 0..<frames {
        let p = pts?[i] ?? Int64(i)
        let f = syntheticFrame(index: i, pts: p, time: Double(p) * tb.value, width: width, height: height)
        try writer.write(f)
        written.append(f)
    }
    try writer.finish()
    return written
}

/// Writes a binary PPM (P6) image: a lossless picture FFmpeg reads, made without any encoder.
func writePPM(_ path: String, _ frame: VideoFrame) throws {
    var data = Data("P6\n\(frame.width) \(frame.height)\n255\n".utf8)
    data.append(contentsOf: frame.rgb)
    try data.write(to: URL(fileURLWithPath: path))
}
