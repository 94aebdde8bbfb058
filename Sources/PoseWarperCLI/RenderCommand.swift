import ArgumentParser
import Foundation
import Keypoints
import Video

/// Set by SIGINT; polled between frames so the output can be removed cleanly.
nonisolated(unsafe) private var renderInterrupted: sig_atomic_t = 0

/// `posewarper render INPUT --keypoints K.jsonl --output OUT.mp4`: draws a keypoint stream on a video.
struct RenderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render",
        abstract: "Draw a keypoint stream (JSON Lines) onto a video.",
        discussion: """
        Persons of the stream line whose "frame" equals a video frame's index are drawn on it; the \
        schema comes from the stream's header (coco17 without one). The output keeps the input's \
        timing and audio. It is written to a temporary file and renamed when complete: on an error \
        or Ctrl-C nothing is left at OUTPUT. Exit status: 1 bad input, 2 output not written, 130 interrupted.
        """)

    @Argument(help: "Video file, URL, image folder or printf pattern.")
    var input: String

    @Option(help: "Keypoint stream (JSON Lines) to draw.")
    var keypoints: String

    @Option(name: .shortAndLong, help: "Output video (.mp4, .mkv or .mov).")
    var output: String

    @Option(help: "Keypoint score threshold; a link needs both ends at or above it.")
    var threshold: Double = 0.3

    @Option(help: "Keypoint disc radius in pixels.")
    var radius: Double = 4

    @Option(help: "Skeleton link width in pixels.")
    var thickness: Double = 2

    @Flag(help: "Do not draw person boxes and track ids.")
    var noBoxes = false

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
        guard threshold.isFinite, radius >= 0, thickness >= 0 else { throw ValidationError("threshold, radius and thickness must be numbers ≥ 0") }
        if let smooth, SmoothingMethod.named(smooth) == nil {
            throw ValidationError("--smooth must be one of \(SmoothingMethod.names.joined(separator: ", ")) (got '\(smooth)')")
        }
        guard (0...51).contains(crf) else { throw ValidationError("--crf must be within 0…51") }
        guard VideoWriter.x264Presets.contains(preset) else {
            throw ValidationError("--preset must be one of \(VideoWriter.x264Presets.joined(separator: ", "))")
        }
    }

    private func fail(_ message: String, code: Int32) -> ExitCode {
        FileHandle.standardError.write(Data("posewarper render: \(message)\n".utf8))
        return ExitCode(code)
    }

    func run() throws {
        let inputURL = URL(fileURLWithPath: input).standardizedFileURL.resolvingSymlinksInPath()
        if inputURL == URL(fileURLWithPath: output).standardizedFileURL.resolvingSymlinksInPath() {
            throw fail("\(output): the output would replace the input; choose another path", code: 2)
        }
        let stream: (header: KeypointStreamHeader?, frames: [FrameKeypoints])
        do {
            guard FileManager.default.fileExists(atPath: keypoints) else { throw fail("\(keypoints): no such file or directory", code: 1) }
            stream = try KeypointStream.read(path: keypoints)
        } catch let e as ExitCode { throw e } catch {
            throw fail("\(error)", code: 1)
        }
        let chosen: KeypointSchema
        if let name = schema {
            guard let s = KeypointSchema.named(name) else { throw fail("unknown schema '\(name)' (known: coco17, posetrack18)", code: 1) }
            chosen = s
        } else if let header = stream.header {
            guard let s = header.knownSchema else {
                throw fail("\(keypoints): the header's schema '\(header.schema.name)' is not one this build knows (coco17, posetrack18); use --schema", code: 1)
            }
            chosen = s
        } else {
            chosen = .coco17
        }
        do { try KeypointOverlay.validate(stream.frames, schema: chosen, path: keypoints) } catch {
            throw fail("\(error)", code: 1)
        }

        var frames = stream.frames
        if let smooth, let method = SmoothingMethod.named(smooth) {
            frames = KeypointSmoother(method: method, scoreThreshold: threshold).smooth(frames)
        }

        renderInterrupted = 0
        let previous = signal(SIGINT) { _ in renderInterrupted = 1 }
        defer { signal(SIGINT, previous) }
        let style = RenderStyle(keypointThreshold: threshold, radius: radius, thickness: thickness,
                                drawBoxes: !noBoxes, drawTrackIDs: !noBoxes)
        let report: OverlayReport
        do {
            report = try KeypointOverlay.render(
                input: input, keypoints: frames, schema: chosen, output: output, style: style,
                writerOptions: VideoWriterOptions(crf: crf, preset: preset),
                readerOptions: VideoReaderOptions(imageSequenceFPS: imageFPS),
                expectedSize: stream.header?.video.map { ($0.width, $0.height) },
                shouldStop: { renderInterrupted != 0 })
        } catch let e as VideoError {
            if case .interrupted = e { throw fail("\(e)", code: 130) }
            throw fail("\(e)", code: e.isInputProblem ? 1 : 2)
        } catch {
            throw fail("\(error)", code: 2)
        }
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
