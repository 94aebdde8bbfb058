import ArgumentParser
import Foundation
import Video

/// `posewarper probe FILE [--json] [--count]`: what a video source is.
struct ProbeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Show a video's size, rotation, frame rates, frame count, duration, codecs and audio.",
        discussion: """
        FILE is a video file, a URL libavformat can open, a folder of images (sorted by the number in \
        their names), a printf pattern such as frames/%06d.jpg, or - for stdin. Exit status 1 when FILE \
        cannot be read, 64 for a bad command line.
        """)

    @Argument(help: "Video file, URL, image folder or printf pattern.")
    var file: String

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    @Flag(help: "Decode the whole video to count its frames exactly (slow for long videos).")
    var count = false

    @Option(parsing: .unconditional, help: "Frame rate given to image folders and patterns.")
    var imageFPS: Double = 25

    func validate() throws {
        if !(imageFPS > 0) || !imageFPS.isFinite { throw ValidationError("--image-fps must be a positive number, got \(imageFPS)") }
    }

    func run() throws {
        try reportingErrors("probe") { try probe() }
    }

    private func probe() throws {
        let reader = try VideoReader(file, options: VideoReaderOptions(imageSequenceFPS: imageFPS))
        var counted: Int? = nil
        if count {
            counted = try reader.countRemaining()
            if let reason = reader.stopReason {
                FileHandle.standardError.write(Data("posewarper probe: warning: \(file): decoding stopped after \(counted!) frames: \(reason)\n".utf8))
            }
        }
        print(json ? jsonText(reader.info, counted: counted, warning: reader.stopReason) : text(reader.info, counted: counted))
    }

    private func text(_ i: VideoInfo, counted: Int?) -> String {
        func fps(_ x: Double) -> String { String(format: "%.3f", x) }
        var lines: [(String, String)] = [("source", i.source), ("container", i.container)]
        var video = "\(i.videoCodec) \(i.width)x\(i.height)"
        if i.rotation != 0 { video += " (stored \(i.storedWidth)x\(i.storedHeight), rotated \(i.rotation)° clockwise)" }
        if i.sampleAspectRatio != Rational(1, 1) { video += ", sample aspect ratio \(i.sampleAspectRatio.num):\(i.sampleAspectRatio.den) (frames are not resampled)" }
        lines.append(("video", video))
        lines.append(("fps", "\(fps(i.averageFPS)) average, \(fps(i.realFPS)) real" + (i.isConstantFrameRate ? " (constant)" : " (variable)")))
        var frames = i.frameCount.map { "\($0) (container)" } ?? "unknown (use --count)"
        if let counted { frames = "\(counted) (counted)" + (i.frameCount.map { $0 == counted ? "" : "; the container lists \($0)" } ?? "") }
        lines.append(("frames", frames))
        lines.append(("duration", i.duration.map { String(format: "%.3f s", $0) } ?? "unknown"))
        lines.append(("audio", i.hasAudio ? "\(i.audioCodec ?? "?")" + (i.audioStreamCount > 1 ? " (\(i.audioStreamCount) streams)" : "") : "none"))
        lines.append(("time base", i.timeBase.description))
        if let b = i.bitRate { lines.append(("bit rate", "\(b / 1000) kb/s")) }
        return lines.map { $0.0.padding(toLength: 10, withPad: " ", startingAt: 0) + " " + $0.1 }.joined(separator: "\n")
    }

    private func jsonText(_ i: VideoInfo, counted: Int?, warning: String?) -> String {
        var o: [String: Any] = [
            "source": i.source, "container": i.container, "width": i.width, "height": i.height,
            "stored_width": i.storedWidth, "stored_height": i.storedHeight, "rotation": i.rotation,
            "sample_aspect_ratio": "\(i.sampleAspectRatio.num):\(i.sampleAspectRatio.den)",
            "average_fps": i.averageFPS, "real_fps": i.realFPS, "constant_frame_rate": i.isConstantFrameRate,
            "frame_count": i.frameCount as Any? ?? NSNull(), "duration": i.duration as Any? ?? NSNull(),
            "video_codec": i.videoCodec, "audio_codec": i.audioCodec as Any? ?? NSNull(), "has_audio": i.hasAudio,
            "audio_streams": i.audioStreamCount, "time_base": i.timeBase.description, "start_pts": i.startPTS,
        ]
        if let counted { o["counted_frames"] = counted }
        if count { o["warning"] = warning as Any? ?? NSNull() }
        let data = try! JSONSerialization.data(withJSONObject: o, options: [.sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }
}
