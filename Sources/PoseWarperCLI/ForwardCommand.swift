import ArgumentParser
import Engine
import Foundation
import Models
import Pipeline
import Tensors

/// `posewarper forward`: raw network output for a raw normalised input, to validate a model
/// (and for the parity checks against PyTorch).
struct ForwardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forward",
        abstract: "Run the network on a normalised input .npy and write the raw heatmaps .npy.",
        discussion: """
            Top-down checkpoints take N×3×H×W; PoseWarper checkpoints take F·N×3×H×W, frame-major: the N \
            crops of the current frame, then of each other frame in option order (default [current, −2, \
            −1, +1, +2]). H and W must be multiples of 32. The output is float32 N×K×H/4×W/4. Detector \
            checkpoints (YOLOX, RTMDet) give their raw head outputs: N×(4 [+1] + classes)×positions.
            """)

    @Option(help: "Checkpoint (.pth zip or legacy, .safetensors), mmpose or 2019 PoseWarper names.")
    var weights: String

    @Option(help: "Input .npy (float32/float64), already normalised.")
    var input: String

    @Option(help: "Output .npy (float32 heatmaps), written atomically.")
    var output: String

    @Option(help: "Pipeline file: its temporal section sets frame order, weights and dilations (flags below override).")
    var pipeline: String?

    @Option(parsing: .unconditional, help: "Threads for the engine (default: all cores).")
    var threads: Int?

    @Option(help: Precision.help)
    var precision: Precision?

    @Option(help: ArgumentHelp("PoseWarper frame weights, comma-separated, in frame order [current, −2, −1, +1, +2] (default 0.3,0.1,0.25,0.25,0.1).",
                               discussion: "Fewer than 5 weights use the first frames of that order; the input then holds that many frames per person."))
    var frameWeights: String?

    @Option(help: "PoseWarper dilations, comma-separated (default 3,6,12,18,24).")
    var dilations: String?

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
        try Precision.validate(precision)
    }

    func run() throws {
        // A signal exits at once (StopSignals), removing a half-written --output.
        try reportingErrors("forward") { try forward() }
    }

    /// The PoseWarper options: defaults (mmpose stage-2), then the pipeline file's temporal section, then the flags.
    func resolvedOptions() throws -> (options: PoseWarperOptions, precision: Precision) {
        var options = PoseWarperOptions()
        var precision = Precision.float32
        if let pipeline {
            let config = try PipelineFile.load(pipeline)
            options = config.temporal.poseWarperOptions
            precision = config.model.precision
        }
        if let text = frameWeights {
            options.frameWeights = try Self.list(text, flag: "--frame-weights") { Float($0) }
            options.frameOffsets = Array(options.frameOffsets.prefix(options.frameWeights.count))
            if options.frameWeights.count > 5 {
                throw ValidationError("--frame-weights: at most 5 frames ([current, −2, −1, +1, +2]), got \(options.frameWeights.count)")
            }
        }
        if let text = dilations {
            options.dilations = try Self.list(text, flag: "--dilations") { Int($0) }
        }
        return (options, self.precision ?? precision)
    }

    private static func list<T>(_ text: String, flag: String, _ parse: (String) -> T?) throws -> [T] {
        let parts = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let values = parts.compactMap(parse)
        guard !parts.isEmpty, values.count == parts.count else {
            throw ValidationError("\(flag): cannot parse '\(text)' as a comma-separated list of numbers")
        }
        return values
    }

    private func forward() throws {
        if let threads { EngineThreads.set(threads) }
        if try DetectorForward.isDetector(weights) {   // YOLOX / RTMDet: see DetectorForward for the layout
            try NPY.write(DetectorForward.run(weights: weights, input: try NPY.read(input)), to: output)
            return
        }
        let (options, precision) = try resolvedOptions()
        if let problem = precision.problem {
            throw PipelineError.badInput("\(pipeline ?? "--precision"): model.precision \(precision.rawValue): \(problem)")
        }
        try OutputPlan.check([.init(flag: "--output", path: output, format: .array)], inputs: [input, weights] + [pipeline].compactMap { $0 })
        let model = try PoseModel.load(weights: weights, options: options)
        model.precision = precision
        let x = try NPY.read(input)
        guard x.rank == 4, x.shape[1] == 3 else {
            throw PipelineError.badInput("\(input): expected an N×3×H×W array, got shape \(x.shape)")
        }
        guard x.shape[0] > 0, x.shape[2] > 0, x.shape[3] > 0,
              x.shape[2] % model.inputMultiple == 0, x.shape[3] % model.inputMultiple == 0 else {
            throw PipelineError.badInput("\(input): height and width must be positive multiples of \(model.inputMultiple), got shape \(x.shape)")
        }
        let frames = model.framesPerSample
        guard x.shape[0] % frames == 0 else {
            throw PipelineError.badInput("\(input): a PoseWarper input needs \(frames)·N images (frame-major), got \(x.shape[0])")
        }
        if let bad = x.storage.firstIndex(where: { !$0.isFinite }) {
            throw PipelineError.badInput("\(input): element \(bad) is not finite (\(x.storage[bad]))")
        }
        let y = model.forward(x)
        try NPY.write(y, to: output)
    }
}
