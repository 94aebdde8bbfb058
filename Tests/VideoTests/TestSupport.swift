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
func run(_ program: String, _ args: [String]) throws -> (status: Int32, output: String) {
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
