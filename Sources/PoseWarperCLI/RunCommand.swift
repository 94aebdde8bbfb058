import ArgumentParser
import Checkpoints
import Dispatch
import Engine
import Foundation
import Keypoints
import Models
import Pipeline
import Video
#if canImport(Glibc)
import Glibc
#endif

/// `posewarper run`: the main job — keypoints of every person in every frame of a video.
///
/// Exit codes: 0 success (also when the keypoint stream's reader closed stdout, e.g. `| head -1`);
/// 1 bad input (a missing or unreadable file, a bad pipeline file, boxes file or checkpoint, an
/// undecodable video, an unwritable output); 2 internal failure; 64 bad command line;
/// 130 interrupted by Ctrl-C (outputs finished and valid up to the last frame written).
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Estimate the poses of every person in every frame of a video.",
        discussion: """
        INPUT is a video file, an image folder (frames sorted by their number), a printf pattern \
        (frames/%06d.jpg) or a URL. Without --pipeline, the settings follow the checkpoint: mmpose's \
        stage-2 PoseTrack18 PoseWarper, or HRNet COCO top-down. Progress goes to stderr when it is a \
        terminal. Exit codes: 0 ok (also when a reader closes stdout), 1 bad input, 2 internal failure, \
        64 bad command line, 130 interrupted (outputs valid up to the last finished frame).
        """)

    @Argument(help: "Video file, image folder, printf pattern or URL.")
    var input: String

    @Option(help: "Pipeline file (Pipelines/*.yml).")
    var pipeline: String?

    @Option(help: "Checkpoint (.pth or .safetensors); overrides the pipeline's model.weights.")
    var weights: String?

    @Option(help: "Person boxes: COCO detection results or PoseWarper boxes JSON.")
    var boxes: String?

    @Flag(help: "One person box covering each whole frame (single-person clips).")
    var wholeFrame = false

    @Option(help: "Person detector checkpoint (YOLOX or RTMDet), run on every frame with its release's settings.")
    var detector: String?

    @Option(help: "JSON Lines keypoint stream: a file, or - for stdout.")
    var keypoints: String?

    @Option(help: "COCO keypoint results JSON (pycocotools loadRes).")
    var coco: String?

    @Option(help: "PoseTrack18 prediction JSON.")
    var posetrack: String?

    @Option(help: "Annotated video (mp4, mkv, mov).")
    var video: String?

    @Option(help: "First frame to write (0-based).")
    var start: Int?

    @Option(help: "Frame to stop before (exclusive).")
    var end: Int?

    @Option(help: "Threads for the network (default: all cores).")
    var threads: Int?

    @Flag(help: "No progress line or summary.")
    var quiet = false

    func validate() throws {
        if [boxes != nil, wholeFrame, detector != nil].filter({ $0 }).count > 1 {
            throw ValidationError("--boxes, --whole-frame and --detector exclude each other")
        }
        if keypoints == nil && coco == nil && posetrack == nil && video == nil {
            throw ValidationError("nothing to write: give at least one of --keypoints, --coco, --posetrack, --video")
        }
        let files = [keypoints, coco, posetrack, video].compactMap { $0 }.filter { $0 != "-" }
        if Set(files).count != files.count { throw ValidationError("two outputs name the same file") }
        if [coco, posetrack, video].contains("-") { throw ValidationError("only --keypoints can go to stdout (-)") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        if let start, start < 0 { throw ValidationError("--start must be 0 or more") }
        if let start, let end, end <= start { throw ValidationError("--end must be greater than --start") }
    }

    func run() throws {
        // A closed stdout must surface as EPIPE on write (ending quietly), not kill the process.
        signal(SIGPIPE, SIG_IGN)
        let code = RunCommand.execute(self)
        if code != 0 { throw ExitCode(code) }
    }

    static func fail(_ message: String) {
        FileHandle.standardError.write(Data("posewarper run: \(message)\n".utf8))
    }

    /// Exit code for an error: 1 for anything the user can fix, 2 for internal failures.
    static func exitCode(for error: Error) -> Int32 {
        if let e = error as? PipelineError { return e.kind == .badInput ? 1 : 2 }
        // The modules' input errors: unreadable checkpoints, videos, outputs; models that do not match.
        if error is CheckpointError || error is VideoError || error is ModelError || error is KeypointStreamError { return 1 }
        return 2
    }

    static func execute(_ options: RunCommand) -> Int32 {
        let job: PoseJob
        var detector: DetectorPersons? = nil
        do {
            if let weights = options.detector { detector = try DetectorPersons(weights: weights) }
            if let threads = options.threads { EngineThreads.set(threads) }
            var config: PipelineConfig
            if let file = options.pipeline {
                config = try PipelineFile.load(file)
            } else {
                guard let weights = options.weights else {
                    fail("no model: pass --weights FILE (and optionally --pipeline FILE)")
                    return 1
                }
                config = try PoseJob.defaultConfig(forWeights: weights)
            }
            job = try PoseJob(pipeline: config, weights: options.weights)
        } catch {
            fail("\(error)")
            return exitCode(for: error)
        }

        // Ctrl-C: the first stops after the frame in progress and finishes every output; a second
        // one exits at once.
        signal(SIGINT, SIG_IGN)
        var interrupted = false
        let interruptLock = NSLock()
        let sigint = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        sigint.setEventHandler {
            interruptLock.lock()
            let second = interrupted
            interrupted = true
            interruptLock.unlock()
            if second { _exit(130) }
            FileHandle.standardError.write(Data("\nposewarper run: interrupted; finishing the outputs (Ctrl-C again to quit at once)\n".utf8))
            job.cancel()
        }
        sigint.resume()

        let persons: PoseJob.Persons = options.wholeFrame ? .wholeFrame
            : options.boxes.map { .boxesFile($0) } ?? detector.map { .source($0) } ?? .pipeline
        var outputs: [PoseJob.Output] = []
        if let k = options.keypoints { outputs.append(.keypoints(k)) }
        if let c = options.coco { outputs.append(.coco(c)) }
        if let p = options.posetrack { outputs.append(.posetrack(p)) }
        if let v = options.video { outputs.append(.video(v)) }

        let progress = ProgressLine(enabled: !options.quiet && isatty(STDERR_FILENO) == 1)
        do {
            let summary = try job.run(input: options.input, persons: persons, outputs: outputs, start: options.start,
                                      end: options.end, progress: progress.update)
            progress.finish()
            if let reason = summary.decodeStopReason { fail("warning: \(reason)") }
            if !options.quiet && !summary.outputClosed {
                let written = [options.keypoints.map { $0 == "-" ? "stdout" : $0 }, options.coco, options.posetrack, options.video]
                    .compactMap { $0 }.joined(separator: ", ")
                let rate = summary.seconds > 0 ? String(format: "%.2f", Double(summary.frames) / summary.seconds) : "-"
                FileHandle.standardError.write(Data(
                    "posewarper run: \(summary.frames) frames, \(summary.persons) persons in \(String(format: "%.1f", summary.seconds)) s (\(rate) fps) → \(written)\n".utf8))
                let t = summary.stageSeconds
                func s(_ k: String) -> String { String(format: "%.2f", t[k] ?? 0) }
                FileHandle.standardError.write(Data(
                    "posewarper run: stage seconds (stages overlap): network \(s("network")) [backbone \(s("backbone")), neck \(s("neck")), crop \(s("crop")), keypoints \(s("keypoint decoding"))], decode \(s("decode")), outputs \(s("outputs")); backbone crops \(summary.cropsEncoded) computed, \(summary.cropsReused) reused\n".utf8))
            }
            interruptLock.lock(); let wasInterrupted = interrupted; interruptLock.unlock()
            if summary.cancelled && wasInterrupted { return 130 }
            return 0
        } catch {
            progress.finish()
            fail("\(error)")
            return exitCode(for: error)
        }
    }
}

/// "frame 120/300  4.1 fps  ETA 0:44" rewritten in place on a terminal's stderr, at most 4 times a second.
final class ProgressLine {
    let enabled: Bool
    private var last = 0.0
    private var shown = false

    init(enabled: Bool) { self.enabled = enabled }

    func update(_ p: PoseJob.Progress) {
        guard enabled, p.seconds - last >= 0.25 || p.framesDone == p.framesTotal else { return }
        last = p.seconds
        var text = "frame \(p.framesDone)"
        if let total = p.framesTotal { text += "/\(total)" }
        text += String(format: "  %.2f fps", p.framesPerSecond)
        if let total = p.framesTotal, p.framesPerSecond > 0 {
            let eta = Int((Double(total - p.framesDone) / p.framesPerSecond).rounded())
            text += String(format: "  ETA %d:%02d", eta / 60, eta % 60)
        }
        FileHandle.standardError.write(Data("\r\u{1B}[K\(text)".utf8))
        shown = true
    }

    func finish() {
        if shown { FileHandle.standardError.write(Data("\n".utf8)); shown = false }
    }
}
