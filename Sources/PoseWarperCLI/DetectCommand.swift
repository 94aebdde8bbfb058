import ArgumentParser
import Checkpoints
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

/// `posewarper detect INPUT (--model NAME | --weights D.pth | --pipeline P.yml)`: person boxes for every frame as
/// COCO detection results (the file `run --boxes` reads), optionally drawn on a video.
struct DetectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "detect",
        abstract: "Detect persons in every frame with a YOLOX or RTMDet checkpoint.",
        discussion: """
        Writes COCO detection results, [{"image_id": frame index, "category_id": 1, "bbox": [x, y, w, h], \
        "score": s}], the file `posewarper run --boxes` reads; without --boxes-out or --video they go to \
        stdout. The family, size and layout come from the checkpoint; pre- and post-processing follow \
        its release unless the pipeline file's persons.detector section or the options below say \
        otherwise. Outputs appear only when complete. Exit codes: 0 ok, 1 bad input, 2 internal failure, \
        64 bad command line, 130 interrupted.
        """)

    @Argument(help: "Video file, image folder, printf pattern or URL.")
    var input: String

    @Option(help: "Detector checkpoint (YOLOX: Megvii or mmdet; RTMDet: mmdet 3.x).")
    var weights: String?

    @Option(help: "Pipeline file whose persons.detector section gives the weights and settings.")
    var pipeline: String?

    @Option(help: "A detector by name (posewarper models lists them; downloaded on first use).")
    var model: String?

    @Option(help: "COCO detection results JSON (- for stdout).")
    var boxesOut: String?

    @Option(help: "Video with the boxes drawn (mp4, mkv, mov).")
    var video: String?

    @Option(help: "Score threshold (default: 0.3).")
    var scoreThreshold: Double?

    @Option(help: "NMS IoU threshold (default: 0.45).")
    var nmsThreshold: Double?

    @Option(parsing: .upToNextOption, help: "Network input width and height (multiples of 32).")
    var inputSize: [Int] = []

    @Option(help: "Threads for the network (default: all cores).")
    var threads: Int?

    @Flag(help: "No summary on stderr.")
    var quiet = false

    func validate() throws {
        if let model {
            if weights != nil || pipeline != nil { throw ValidationError("--model excludes --weights and --pipeline") }
            _ = try NamedModels.entry(model, flag: "--model", tasks: [.detection])
        } else if weights == nil && pipeline == nil {
            throw ValidationError("give --model NAME, --weights FILE or --pipeline FILE")
        }
        if let t = scoreThreshold, !(0...1).contains(t) { throw ValidationError("--score-threshold must be within 0…1") }
        if let t = nmsThreshold, !(0...1).contains(t) { throw ValidationError("--nms-threshold must be within 0…1") }
        if !inputSize.isEmpty && (inputSize.count != 2 || !inputSize.allSatisfy({ $0 > 0 && $0 % 32 == 0 })) {
            throw ValidationError("--input-size takes width and height, positive multiples of 32")
        }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        if video == "-" { throw ValidationError("--video cannot go to stdout") }
        if let b = boxesOut, let v = video, b == v { throw ValidationError("--boxes-out and --video name the same file") }
    }

    private static func fail(_ message: String) {
        FileHandle.standardError.write(Data("posewarper detect: \(message)\n".utf8))
    }


    func run() throws {
        let code = DetectCommand.execute(self)
        if code != 0 { throw ExitCode(code) }
    }

    static func execute(_ o: DetectCommand) -> Int32 {
        let inputPath = URL(fileURLWithPath: o.input).standardizedFileURL.resolvingSymlinksInPath()
        for out in [o.boxesOut, o.video].compactMap({ $0 }) where out != "-" {
            if URL(fileURLWithPath: out).standardizedFileURL.resolvingSymlinksInPath() == inputPath {
                fail("\(out): the output would replace the input; choose another path")
                return 1
            }
        }
        let detector: DetectorPersons
        let reader: VideoReader
        let renderer: SkeletonRenderer
        do {
            if let threads = o.threads { EngineThreads.set(threads) }
            // A named detector comes with its own pipeline file's settings when it has one.
            let named = try o.model.map { try NamedModels.resolve($0, command: "detect", quiet: o.quiet) }
            var section = try (o.pipeline ?? named?.pipeline).map { try DetectorSection.load(pipeline: $0) } ?? DetectorSection()
            if let t = o.scoreThreshold { section.scoreThreshold = Float(t) }
            if let t = o.nmsThreshold { section.nmsThreshold = Float(t) }
            if !o.inputSize.isEmpty { section.inputSize = o.inputSize }
            guard let weights = named?.weights ?? o.weights ?? section.weights else {
                fail("\(o.pipeline!): persons.detector has no weights; pass --weights FILE")
                return 1
            }
            detector = try DetectorPersons(weights: weights, section: section)
            reader = try VideoReader(o.input)
            // Boxes only (the threshold hides every keypoint); a missing label font fails here, before any output.
            renderer = try SkeletonRenderer(schema: .coco17, style: RenderStyle(keypointThreshold: 2, boxThickness: 2))
        } catch {
            fail("\(error)")
            return ExitStatus.code(for: error)
        }

        // Ctrl-C stops after the frame in progress; nothing is left at the output paths.
        signal(SIGINT, SIG_IGN)
        let interrupted = ManagedFlag()
        let sigint = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        sigint.setEventHandler { if interrupted.set() { _exit(130) } }
        sigint.resume()

        var writer: VideoWriter? = nil
        var entries: [String] = []
        var frames = 0, persons = 0
        let started = Date()
        do {
            if let v = o.video { writer = try VideoWriter(path: v, like: reader) }
            while !interrupted.isSet, var frame = try reader.next() {
                let boxes = try detector.boxes(in: frame)
                for b in boxes {
                    entries.append(String(format: "{\"image_id\": %d, \"category_id\": 1, \"bbox\": [%.2f, %.2f, %.2f, %.2f], \"score\": %.5f}",
                                          frame.index, b.x, b.y, b.width, b.height, b.score ?? 0))
                }
                if let w = writer {
                    let drawn = boxes.map { b in
                        PersonPose(bbox: b.xywh, bboxScore: b.score, score: b.score ?? 0,
                                   keypoints: Array(repeating: [0, 0, 0], count: KeypointSchema.coco17.keypoints.count))
                    }
                    renderer.draw(drawn, on: &frame)
                    try w.write(frame)
                }
                frames += 1
                persons += boxes.count
            }
            if interrupted.isSet {
                writer?.abort()
                fail("interrupted; no output written")
                return 130
            }
            let json = "[\n" + entries.joined(separator: ",\n") + "\n]\n"
            if let b = o.boxesOut, b != "-" {
                try writeAtomically(json, to: b)
            } else if o.boxesOut == "-" || o.video == nil {
                FileHandle.standardOutput.write(Data(json.utf8))
            }
            try writer?.finish()
        } catch {
            writer?.abort()
            fail("\(error)")
            return ExitStatus.code(for: error)
        }
        if !o.quiet {
            let seconds = Date().timeIntervalSince(started)
            FileHandle.standardError.write(Data(String(format: "posewarper detect: %@, %d frames, %d persons, %.1f frames/s\n",
                                                       detector.model.description.title, frames, persons,
                                                       seconds > 0 ? Double(frames) / seconds : 0).utf8))
        }
        return 0
    }

    /// Writes to a hidden file beside `path`, then renames it over `path` (rename(2) replaces an
    /// existing file atomically; Foundation's replaceItemAt on Linux deleted it and then failed).
    private static func writeAtomically(_ text: String, to path: String) throws {
        let failure = Array(text.utf8).withUnsafeBytes { TemporaryFiles.writeAtomically($0, to: path) }
        if let failure { throw PipelineError.outputNotWritten("\(path): cannot write: \(failure)") }
    }
}

/// A flag set from a signal handler's queue and read by the frame loop.
private final class ManagedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    /// Sets the flag; returns whether it was already set.
    func set() -> Bool { lock.lock(); defer { lock.unlock() }; let was = value; value = true; return was }
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
}
