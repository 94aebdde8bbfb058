// Video benchmarks: decode and render+encode throughput on generated clips.
import Foundation
import Keypoints
import Video

/// Benchmark sections for the Video module.
func videoBenchSections() -> [BenchSection] {
    [(name: "video: decode and render+encode (fps, higher is better)", run: runVideoBench)]
}

/// Wall-clock and CPU (user + system, all threads) seconds of `body`.
private func measure(_ body: () throws -> Void) rethrows -> (wall: Double, cpu: Double) {
    func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }
    let wall0 = Date(), cpu0 = cpuSeconds()
    try body()
    return (Date().timeIntervalSince(wall0), cpuSeconds() - cpu0)
}

private func runVideoBench() throws {
    let dir = NSTemporaryDirectory() + "posewarper-video-bench-\(ProcessInfo.processInfo.processIdentifier)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let frameCount = 60
    // fps = frames / wall seconds; "cpu ms/frame" = CPU time of all threads per frame, which stays
    // meaningful when other jobs share the cores.
    print("size      | stage                                   |    fps | cpu ms/frame")
    for (w, h) in [(1280, 720), (1920, 1080)] {
        let clip = "\(dir)/clip-\(w)x\(h).mp4"
        try makeClip(clip, width: w, height: h, frames: frameCount)
        func row(_ stage: String, _ t: (wall: Double, cpu: Double), _ n: Int) {
            let size = "\(w)x\(h)".padding(toLength: 9, withPad: " ", startingAt: 0)
            print(size + " | " + stage.padding(toLength: 39, withPad: " ", startingAt: 0) + " | "
                  + String(format: "%6.1f | %8.1f", Double(n) / t.wall, 1000 * t.cpu / Double(n)))
        }

        var frames: [VideoFrame] = []
        var source: VideoReader! = nil
        let decode = try measure {
            source = try VideoReader(clip)
            while let f = try source.next() { frames.append(f) }
        }
        row("decode h264 → RGB (threads: auto)", decode, frames.count)

        let persons = samplePersons(width: w, height: h)
        let renderer = try SkeletonRenderer(schema: .coco17)
        var drawn = frames
        let render = measure { for i in drawn.indices { renderer.draw(persons, on: &drawn[i]) } }
        row("render 5 skeletons (Swift)", render, frames.count)

        for preset in ["medium", "veryfast"] {
            let t = try measure {
                let writer = try VideoWriter(path: "\(dir)/out-\(preset).mp4", like: source,
                                             options: VideoWriterOptions(crf: 20, preset: preset))
                for var f in frames {
                    renderer.draw(persons, on: &f)
                    try writer.write(f)
                }
                try writer.finish()
            }
            row("render+encode x264 \(preset), crf 20", t, frames.count)
        }
    }
    print("(\(frameCount)-frame generated clips; 2 cores shared with other builds: wall-clock fps are noisy)")
}

/// A smoothly moving gradient clip (no noise: closer to real footage than random texture) written with the project's own encoder (fast preset: setup, not measured).
private func makeClip(_ path: String, width: Int, height: Int, frames: Int) throws {
    let info = VideoInfo(source: "bench", container: "none", width: width, height: height, averageFPS: 30,
                         videoCodec: "rawvideo", timeBase: Rational(1, 30))
    let writer = try VideoWriter(path: path, info: info, options: VideoWriterOptions(crf: 20, preset: "ultrafast"))
    var rgb = [UInt8](repeating: 0, count: width * height * 3)
    for i in 0..<frames {
        for y in 0..<height {
            for x in 0..<width {
                let o = (y * width + x) * 3
                rgb[o] = UInt8(truncatingIfNeeded: x + i * 3)
                rgb[o + 1] = UInt8(truncatingIfNeeded: y + i)
                rgb[o + 2] = UInt8(truncatingIfNeeded: (x + y) / 2 + i * 5)
            }
        }
        try writer.write(VideoFrame(index: i, time: Double(i) / 30, pts: Int64(i), width: width, height: height, rgb: rgb))
    }
    try writer.finish()
}

/// Five standing figures spread across the frame.
private func samplePersons(width: Int, height: Int) -> [PersonPose] {
    (0..<5).map { p in
        let cx = Double(width) * (Double(p) + 0.5) / 5, top = Double(height) * 0.15, s = Double(height) / 720
        let offsets: [(Double, Double)] = [(0, 0), (-8, -8), (8, -8), (-16, 0), (16, 0), (-40, 60), (40, 60), (-60, 140),
                                           (60, 140), (-70, 220), (70, 220), (-30, 240), (30, 240), (-35, 360), (35, 360),
                                           (-40, 480), (40, 480)]
        let k = offsets.map { [cx + $0.0 * s, top + $0.1 * s, 0.9] }
        return PersonPose(trackID: p + 1, bbox: [cx - 90 * s, top - 20 * s, 180 * s, 520 * s], score: 0.9, keypoints: k)
    }
}
