import ArgumentParser
import Checkpoints
import Dispatch
import Engine
import Failures
import Foundation
import Keypoints
import ModelZoo
import Models
import Pipeline
import Video
#if canImport(Glibc)
import Glibc
#endif

/// `posewarper run`: the main job — keypoints of every person in every frame of a video.
///
/// Exit codes (`ExitStatus`, the README's table): 0 success (also when the keypoint stream's reader
/// closed stdout, e.g. `| head -1`); 1 bad input; 2 an output not written or an internal failure;
/// 64 bad command line; 130 / 143 stopped by SIGINT / SIGTERM (the stream and the video valid up to
/// the last frame written, COCO and PoseTrack files not produced).
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Estimate the poses of every person in every frame of a video.",
        discussion: """
        INPUT is a video file, an image folder (frames sorted by their number), a printf pattern \
        (frames/%06d.jpg), a URL, or - for stdin. Several inputs, a folder of videos, a glob or --inputs LIST \
        make a batch: outputs are then templates ({stem}, {name}, {index}, {segment}), the model is loaded \
        once, and a bad input does not stop the others (exit 1 if any input was bad, 2 if any output or \
        internal failure). --segment i/n runs the i-th of n frame ranges (of all the inputs' frames together \
        when there are several) and needs --keypoints; posewarper merge joins the parts. \
        --model NAME (posewarper models lists them) takes a checkpoint by name, downloaded into the \
        user cache on first use, with its pipeline file; --detector also takes a detector's name. \
        Without --pipeline, the settings follow the checkpoint: \
        mmpose's stage-2 PoseTrack18 PoseWarper, or HRNet COCO top-down. Every output path is checked \
        before any work; files are written to temporary files and renamed when complete. Progress goes \
        to stderr when it is a terminal. Exit codes: 0 ok (also when a reader closes stdout), 1 bad \
        input, 2 output not written or internal failure, 64 bad command line, 130/143 stopped by \
        SIGINT/SIGTERM (stream and video valid up to the last finished frame; COCO and PoseTrack \
        files are written only when every frame was).
        """)

    @Argument(help: ArgumentHelp("Video file, image folder, printf pattern, URL, or - (stdin); several, a folder of videos, or a glob for a batch.",
                                 valueName: "input"))
    var inputArguments: [String] = []

    @Option(help: "Pipeline file (Pipelines/*.yml).")
    var pipeline: String?

    @Option(help: "A model by name, with its pipeline file (posewarper models lists them; downloaded on first use).")
    var model: String?

    @Option(help: "Checkpoint (.pth or .safetensors); overrides the pipeline's model.weights.")
    var weights: String?

    @Option(help: "Person boxes: COCO detection results or PoseWarper boxes JSON.")
    var boxes: String?

    @Flag(help: "One person box covering each whole frame (single-person clips).")
    var wholeFrame = false

    @Option(help: "Person detector checkpoint (YOLOX or RTMDet) or a detector's name (posewarper models), with its release's settings or the pipeline file's persons.detector section.")
    var detector: String?

    @Option(help: "JSON Lines keypoint stream: a file, or - for stdout.")
    var keypoints: String?

    @Option(help: "COCO keypoint results JSON (pycocotools loadRes); written only when every frame is done.")
    var coco: String?

    @Option(help: "PoseTrack18 prediction JSON (PoseTrack18 models); written only when every frame is done.")
    var posetrack: String?

    @Option(help: "Annotated video (mp4, mkv, mov).")
    var video: String?

    @Option(parsing: .unconditional, help: "First frame to write (0-based).")
    var start: Int?

    @Option(parsing: .unconditional, help: "Frame to stop before (exclusive).")
    var end: Int?

    @Option(help: "Smooth keypoints per track: none, one_euro, gaussian or savitzky_golay (overrides the pipeline's smoothing.method; parameters from the pipeline file).")
    var smooth: String?

    @Option(parsing: .unconditional, help: "Threads for the network (default: all cores).")
    var threads: Int?

    @Option(help: Precision.help)
    var precision: Precision?

    @Option(parsing: .unconditional, help: "Frame rate given to image folders and patterns.")
    var imageFPS: Double = 25

    @Option(parsing: .unconditional, help: "Annotated video: libx264 constant rate factor (0–51, lower is better).")
    var crf: Double = 20

    @Option(help: "Annotated video: libx264 preset (ultrafast … veryslow).")
    var preset: String = "medium"

    @Flag(help: "Keep up with a live source: drop frames when the network falls behind (the count is reported).")
    var realtime = false

    @Flag(help: "No progress line or summary.")
    var quiet = false

    @Option(help: "Annotated video: box label id, id-score or none (overrides output.label).")
    var label: String?

    @Option(help: "Annotated video: skeleton colours by part or track (overrides output.color_by).")
    var colorBy: String?

    @Option(help: "Annotated video: motion trail of the last N frames per tracked joint (overrides output.trails).")
    var trails: Int?

    @Flag(help: "Annotated video: draw keypoints below the threshold hollow (overrides output.show_low).")
    var showLow = false

    // MARK: Batches and segments (BatchRun.swift)

    @Option(name: .customLong("inputs"), help: "A file listing inputs, one a line (# comments; relative paths from the current folder).")
    var inputList: String?

    @Option(help: "Process the i-th of n frame ranges (0-based i/n) of the input, or of all the inputs' frames together, or auto/n: i from POSEWARPER_SEGMENT, SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX.")
    var segment: String?

    func validate() throws {
        try validateBatch()
        if let model {
            if pipeline != nil || weights != nil { throw ValidationError("--model excludes --pipeline and --weights (the model brings both)") }
            _ = try NamedModels.entry(model, flag: "--model", tasks: [.pose, .videoPose])
        }
        if [boxes != nil, wholeFrame, detector != nil].filter({ $0 }).count > 1 {
            throw ValidationError("--boxes, --whole-frame and --detector exclude each other")
        }
        if keypoints == nil && coco == nil && posetrack == nil && video == nil {
            throw ValidationError("nothing to write: give at least one of --keypoints, --coco, --posetrack, --video")
        }
        if [coco, posetrack, video].contains("-") { throw ValidationError("only --keypoints can go to stdout (-)") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
        try Precision.validate(precision)
        if let start, start < 0 { throw ValidationError("--start must be 0 or more, got \(start)") }
        if let smooth, smooth != "none", SmoothingMethod.named(smooth) == nil {
            throw ValidationError("--smooth must be one of none, \(SmoothingMethod.names.joined(separator: ", ")) (got '\(smooth)')")
        }
        if let start, let end, end <= start { throw ValidationError("--end must be greater than --start") }
        if !(imageFPS > 0) || !imageFPS.isFinite { throw ValidationError("--image-fps must be a positive number, got \(imageFPS)") }
        guard (0...51).contains(crf) else { throw ValidationError("--crf must be within 0…51, got \(crf)") }
        guard VideoWriter.x264Presets.contains(preset) else {
            throw ValidationError("--preset must be one of \(VideoWriter.x264Presets.joined(separator: ", "))")
        }
        if let label, RenderStyle.Label(rawValue: label) == nil { throw ValidationError("--label must be one of id, id-score, none") }
        if let colorBy, RenderStyle.ColorBy(rawValue: colorBy) == nil { throw ValidationError("--color-by must be one of part, track") }
        if let trails, !(0...300).contains(trails) { throw ValidationError("--trails must be 0…300 frames") }
    }

    func run() throws {
        let code = isBatch ? BatchRun.execute(self) : RunCommand.execute(self)
        if code != 0 { throw ExitCode(code) }
    }

    /// The overlay flags, applied over the pipeline file's output section (validated already).
    func overrideOverlay(_ output: inout PipelineConfig.Output) {
        if let label { output.label = RenderStyle.Label(rawValue: label)! }
        if let colorBy { output.colorBy = RenderStyle.ColorBy(rawValue: colorBy)! }
        if let trails { output.trails = trails }
        if showLow { output.showLow = true }
    }

    static func fail(_ message: String) {
        FileHandle.standardError.write(Data("posewarper run: \(message)\n".utf8))
    }

    var outputs: [PoseJob.Output] {
        var outputs: [PoseJob.Output] = []
        if let k = keypoints { outputs.append(.keypoints(k)) }
        if let c = coco { outputs.append(.coco(c)) }
        if let p = posetrack { outputs.append(.posetrack(p)) }
        if let v = video { outputs.append(.video(v)) }
        return outputs
    }

    static func execute(_ options: RunCommand) -> Int32 {
        // Until the job exists a signal exits at once: there is nothing to finish.
        let signals = StopSignals.shared
        let job: PoseJob
        var detector: DetectorPersons? = nil
        do {
            let config = try options.loadConfig()
            // Every output checked before the model is loaded or any file touched.
            try OutputPlan.check(options.outputs, inputs: [options.input] + options.modelInputs(config), schema: config.model.schema)
            detector = try options.loadDetector(config)
            job = try options.makeJob(config)
        } catch {
            fail("\(error)")
            return ExitStatus.code(for: error)
        }
        // The first SIGINT/SIGTERM stops after the frame in progress and finishes the outputs.
        signals.onStop(command: "run") { job.cancel() }

        let persons = options.persons(detector: detector)
        let progress = ProgressLine(enabled: !options.quiet && isatty(STDERR_FILENO) == 1)
        do {
            let summary = try job.run(input: options.input, persons: persons, outputs: options.outputs, start: options.start,
                                      end: options.end, progress: progress.update)
            progress.finish()
            if let reason = summary.decodeStopReason { fail("warning: \(reason)") }
            if options.realtime {
                fail("--realtime: \(summary.framesDropped) frame(s) dropped to keep up with \(options.input)")
            }
            if !summary.notWritten.isEmpty {
                let why = summary.outputClosed ? "the keypoint stream's reader closed it" : "the run was stopped"
                fail("\(summary.notWritten.joined(separator: ", ")) not written: \(why) after \(summary.frames) frames "
                     + "(COCO and PoseTrack files are written only when every frame is done)")
            }
            if !options.quiet && !summary.outputClosed {
                let written = [options.keypoints.map { $0 == "-" ? "stdout" : $0 }, options.coco, options.posetrack, options.video]
                    .compactMap { $0 }.filter { !summary.notWritten.contains($0) }.joined(separator: ", ")
                let sparse = summary.framesFromKeypoints > 0
                    ? " (detector on \(summary.framesDetected) frames, keypoint boxes on \(summary.framesFromKeypoints))" : ""
                let rate = summary.seconds > 0 ? String(format: "%.2f", Double(summary.frames) / summary.seconds) : "-"
                FileHandle.standardError.write(Data(
                    "posewarper run: \(summary.frames) frames, \(summary.persons) persons\(sparse) in \(String(format: "%.1f", summary.seconds)) s (\(rate) fps) → \(written)\n".utf8))
                let t = summary.stageSeconds
                func s(_ k: String) -> String { String(format: "%.2f", t[k] ?? 0) }
                FileHandle.standardError.write(Data(
                    "posewarper run: stage seconds (stages overlap): network \(s("network")) [backbone \(s("backbone")), neck \(s("neck")), crop \(s("crop")), keypoints \(s("keypoint decoding"))], decode \(s("decode")),\(t["detector"] == nil ? "" : " detector \(s("detector")),") outputs \(s("outputs")); backbone crops \(summary.cropsEncoded) computed, \(summary.cropsReused) reused\n".utf8))
            }
            if !summary.complete, let code = signals.exitCode { return code }
            return ExitStatus.ok
        } catch {
            progress.finish()
            fail("\(error)")
            return ExitStatus.code(for: error)
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

// MARK: - Shared by the single-input run and batch runs (BatchRun.swift): settings that make a job.
extension RunCommand {
    /// The one input of a single run.
    var input: String { inputArguments.first ?? "" }

    /// Where person boxes come from (`detector`: the loaded `--detector`).
    func persons(detector: DetectorPersons?) -> PoseJob.Persons {
        wholeFrame ? .wholeFrame : boxes.map { .boxesFile($0) } ?? detector.map { .source($0) } ?? .pipeline
    }

    /// The pipeline file's settings, or the checkpoint's defaults.
    func loadConfig() throws -> PipelineConfig {
        if let threads { EngineThreads.set(threads) }
        var config: PipelineConfig
        if let model {
            config = try NamedModels.poseConfig(model, command: "run", quiet: quiet)
        } else if let file = pipeline {
            config = try PipelineFile.load(file)
        } else {
            guard let weights else { throw PipelineError.badInput("no model: pass --model NAME or --weights FILE (and optionally --pipeline FILE)") }
            config = try PoseJob.defaultConfig(forWeights: weights)
        }
        overrideOverlay(&config.output)
        if let precision { config.model.precision = precision }
        if let smooth {
            // The pipeline file's parameters apply when it names the same method.
            if smooth == "none" { config.smoothing.method = nil }
            else if config.smoothing.method?.name != smooth { config.smoothing.method = SmoothingMethod.named(smooth) }
        }
        return config
    }

    /// Files the model side of a run reads (no output may replace them).
    func modelInputs(_ config: PipelineConfig) -> [String] {
        [pipeline ?? config.path, weights ?? config.model.weights, boxes, detector].compactMap { $0 }
            + (boxes == nil && !wholeFrame ? PoseJob.Persons.pipeline.inputFiles(config) : [])
    }

    /// The `--detector` checkpoint or name with its settings (`NamedModels.detector`), if given.
    func loadDetector(_ config: PipelineConfig) throws -> DetectorPersons? {
        try detector.map {
            let resolved = try NamedModels.detector($0, poseSection: config.persons.detector, command: "run", quiet: quiet)
            return try DetectorPersons(weights: resolved.weights, section: resolved.section)
        }
    }

    /// The job with the model loaded and the command's settings applied.
    func makeJob(_ config: PipelineConfig) throws -> PoseJob {
        let job = try PoseJob(pipeline: config, weights: weights)
        job.imageSequenceFPS = imageFPS
        job.videoOptions = VideoWriterOptions(crf: crf, preset: preset)
        job.warn = { RunCommand.fail("warning: \($0)") }
        job.realtime = realtime
        return job
    }
}
