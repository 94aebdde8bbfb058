import ArgumentParser
import Failures
import Foundation
import Keypoints
import Pipeline
import Video

/// `posewarper render INPUT --keypoints K.jsonl --output OUT.mp4`: draws a keypoint stream on a video.
struct RenderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render",
        abstract: "Draw a keypoint stream (JSON Lines) onto a video.",
        discussion: """
        Persons of the stream line whose "frame" equals a video frame's index are drawn on it; the \
        schema comes from the stream's header (coco17 without one). The output keeps the input's \
        timing and audio. It is written to a temporary file and renamed when complete: on an error, \
        Ctrl-C or SIGTERM nothing is left at OUTPUT. Exit status: 1 bad input, 2 output not written, \
        64 bad command line, 130/143 stopped by SIGINT/SIGTERM.
        """)

    @Argument(help: "Video file, URL, image folder or printf pattern.")
    var input: String

    @Option(help: "Keypoint stream (JSON Lines) to draw.")
    var keypoints: String

    @Option(name: .shortAndLong, help: "Output video (.mp4, .mkv or .mov).")
    var output: String

    @Option(help: "Keypoint score threshold; a link needs both ends at or above it.")
    var threshold: Double = 0.3

    @Option(help: "Keypoint disc radius in pixels (default: 1.5 × the frame's line width, max(2, (w+h)/2 × 0.003)).")
    var radius: Double?

    @Option(help: "Skeleton link width in pixels (default: max(2, (w+h)/2 × 0.003)).")
    var thickness: Double?

    @Flag(help: "Do not draw person boxes and track ids.")
    var noBoxes = false

    @Option(help: "Box label: id (\"ID 3\"), id-score (\"3 0.92\") or none.")
    var label: String = RenderStyle.Label.id.rawValue

    @Option(help: "Skeleton colours: part (mmpose's left/right/centre palette) or track (one colour per track id).")
    var colorBy: String = RenderStyle.ColorBy.part.rawValue

    @Option(help: "Motion trail: each tracked joint's positions over the last N frames (0: none).")
    var trails: Int = 0

    @Flag(help: "Draw keypoints below the threshold as hollow circles instead of hiding them.")
    var showLow = false

    @Option(help: "TrueType font for the labels.")
    var font: String = LabelFont.defaultPath

    @Option(help: "libx264 constant rate factor (0–51, lower is better).")
    var crf: Double = 20

    @Option(help: "libx264 preset (ultrafast … veryslow).")
    var preset: String = "medium"

    @Option(help: "Smooth the stream's keypoints per track before drawing: one_euro, gaussian or savitzky_golay (default parameters).")
    var smooth: String?

    @Option(help: "Schema to draw with, overriding the stream header (coco17, posetrack18).")
    var schema: String?

    @Option(help: "Frame rate given to image folders and patterns.")
    var imageFPS: Double = 25

    func validate() throws {
        guard threshold.isFinite, (radius ?? 0) >= 0, (thickness ?? 0) >= 0 else { throw ValidationError("threshold, radius and thickness must be numbers ≥ 0") }
        guard RenderStyle.Label(rawValue: label) != nil else { throw ValidationError("--label must be one of id, id-score, none") }
        guard RenderStyle.ColorBy(rawValue: colorBy) != nil else { throw ValidationError("--color-by must be one of part, track") }
        guard (0...300).contains(trails) else { throw ValidationError("--trails must be 0…300 frames") }
        if let smooth, SmoothingMethod.named(smooth) == nil {
            throw ValidationError("--smooth must be one of \(SmoothingMethod.names.joined(separator: ", ")) (got '\(smooth)')")
        }
        guard (0...51).contains(crf) else { throw ValidationError("--crf must be within 0…51") }
        guard VideoWriter.x264Presets.contains(preset) else {
            throw ValidationError("--preset must be one of \(VideoWriter.x264Presets.joined(separator: ", "))")
        }
        if let schema, KeypointSchema.named(schema) == nil {
            throw ValidationError("--schema: unknown schema '\(schema)' (known: coco17, posetrack18)")
        }
    }

    func run() throws {
        // The first SIGINT/SIGTERM stops between frames (nothing is left at OUTPUT); a second exits at once.
        let signals = StopSignals.shared
        let stop = StopFlag()
        signals.onStop(command: "render") { stop.set() }
        try reportingErrors("render") {
            do {
                try render(shouldStop: stop.isSet)
            } catch VideoError.interrupted(let path) {
                FileHandle.standardError.write(Data("posewarper render: \(path): interrupted; the output was not written\n".utf8))
                throw ExitCode(signals.exitCode ?? ExitStatus.interrupted)
            }
        }
    }

    private func render(shouldStop: @escaping () -> Bool) throws {
        try OutputPlan.check([.init(flag: "--output", path: output, format: .video)], inputs: [input, keypoints])
        let stream = try KeypointStream.read(path: keypoints)
        let chosen: KeypointSchema
        if let name = schema, let s = KeypointSchema.named(name) {
            chosen = s
        } else if let header = stream.header {
            guard let s = header.knownSchema else {
                throw KeypointStreamError.unreadable(path: keypoints, reason: "the header's schema '\(header.schema.name)' is not one this build knows (coco17, posetrack18); use --schema")
            }
            chosen = s
        } else {
            chosen = .coco17
        }
        try KeypointOverlay.validate(stream.frames, schema: chosen, path: keypoints)

        var frames = stream.frames
        if let smooth, let method = SmoothingMethod.named(smooth) {
            frames = KeypointSmoother(method: method, scoreThreshold: threshold).smooth(frames)
        }
        let style = RenderStyle(keypointThreshold: threshold, radius: radius, thickness: thickness, drawBoxes: !noBoxes,
                                label: RenderStyle.Label(rawValue: label)!, colorBy: RenderStyle.ColorBy(rawValue: colorBy)!,
                                showLow: showLow, trails: trails, fontPath: font)
        let report = try KeypointOverlay.render(
                input: input, keypoints: frames, schema: chosen, output: output, style: style,
                writerOptions: VideoWriterOptions(crf: crf, preset: preset),
                readerOptions: VideoReaderOptions(imageSequenceFPS: imageFPS, keepAudio: true),
                expectedSize: stream.header?.video.map { ($0.width, $0.height) },
                shouldStop: shouldStop)
        if let reason = report.stopReason {
            FileHandle.standardError.write(Data("posewarper render: warning: \(input): decoding stopped after \(report.framesWritten) frames: \(reason)\n".utf8))
        }
        for w in report.warnings { FileHandle.standardError.write(Data("posewarper render: warning: \(w)\n".utf8)) }
        if report.unmatchedKeypointFrames > 0 {
            FileHandle.standardError.write(Data("posewarper render: warning: \(report.unmatchedKeypointFrames) keypoint frame(s) match no video frame\n".utf8))
        }
        print("\(output): \(report.framesWritten) frames (\(report.framesWithKeypoints) with keypoints), \(report.outputWidth)x\(report.outputHeight), \(report.encoder)")
    }
}

/// A flag set from the signal queue and polled by the work loop.
final class StopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.lock(); value = true; lock.unlock() }
    func isSet() -> Bool { lock.lock(); defer { lock.unlock() }; return value }
}
