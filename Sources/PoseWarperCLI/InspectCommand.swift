import ArgumentParser
import Checkpoints
import Foundation
import Models
import Tensors

/// `posewarper inspect FILE [--json]`: what a checkpoint holds, without Python.
///
/// The `--json` output is one object with a stable schema:
/// ```
/// {"format": "zip" | "legacy" | "safetensors",
///  "tensors": [{"name": String, "dtype": String, "shape": [Int]}],   // state-dict order
///  "parameters": Int,    // elements of all tensors except BN running_mean/running_var, num_batches_tracked
///  "meta": Object | null,       // mmcv/mmpose `meta` (safetensors: `__metadata__`), else null
///  "architecture": Object | null}  // recognised model (see `architectureJSON`), else null
/// ```
/// dtype is one of float32, float16, bfloat16, float64, int64, int32, int16, int8, uint8, bool;
/// names are after layout resolution ('state_dict'/'model' unwrapped, 'module.' removed).
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "List a checkpoint's format, tensors (name, dtype, shape), parameter count and meta.")

    @Argument(help: "A PyTorch .pth (zip or legacy format) or .safetensors file.")
    var file: String

    @Flag(help: "Print one JSON object (schema in the README) instead of text.")
    var json = false

    @Flag(help: "Also read every tensor as float32, all held at once as a model load does, and report the time (to stderr).")
    var readAll = false

    func run() throws {
        try reportingErrors("inspect") { try inspect() }
    }

    private func inspect() throws {
        let checkpoint = try Checkpoint.load(file)
        if readAll {
            let start = Date()
            var tensors: [Tensor] = []
            tensors.reserveCapacity(checkpoint.entries.count)
            for entry in checkpoint.entries { tensors.append(try checkpoint.tensor(entry.name)) }
            let elements = tensors.reduce(0) { $0 + $1.count }
            let seconds = Date().timeIntervalSince(start)
            FileHandle.standardError.write(Data("read \(tensors.count) tensors (\(elements) float32 elements) in \(String(format: "%.3f", seconds)) s\n".utf8))
        }
        let architecture = InspectCommand.architectureJSON(for: checkpoint)
        print(json ? InspectCommand.jsonReport(checkpoint, architecture: architecture)
                   : InspectCommand.textReport(checkpoint, architecture: architecture), terminator: "")
    }

    /// The recognised architecture (the Models module's inference from names and shapes) as a JSON
    /// object, or nil when the layout is not one the product can build.
    static func architectureJSON(for checkpoint: Checkpoint) -> String? {
        switch ModelFamilies.identify(checkpoint.entries.map(\.name)) {
        case .pose?: return (try? PoseModel.describe(checkpoint))?.summaryJSON
        case nil: return nil
        case .detector?: break
        }
        guard let detector = try? DetectorModel.describe(checkpoint),
              let data = try? JSONSerialization.data(withJSONObject: detector.summary, options: [.sortedKeys]) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    static func jsonReport(_ checkpoint: Checkpoint, architecture: String?) -> String {
        var out = "{\"format\":\"\(checkpoint.format.rawValue)\",\"tensors\":["
        for (i, entry) in checkpoint.entries.enumerated() {
            if i > 0 { out += "," }
            out += "{\"name\":\(PickleValue.string(entry.name).jsonString()),\"dtype\":\"\(entry.dtype.rawValue)\","
            out += "\"shape\":[\(entry.shape.map(String.init).joined(separator: ","))]}"
        }
        out += "],\"parameters\":\(checkpoint.parameterCount)"
        out += ",\"meta\":\(checkpoint.meta?.jsonString() ?? "null")"
        out += ",\"architecture\":\(architecture ?? "null")}\n"
        return out
    }

    static func textReport(_ checkpoint: Checkpoint, architecture: String?) -> String {
        var out = "file: \(checkpoint.path)\nformat: \(checkpoint.format.rawValue)\ntensors: \(checkpoint.entries.count)\n"
        let width = min(80, checkpoint.entries.map(\.name.count).max() ?? 0)
        for entry in checkpoint.entries {
            let padded = entry.name.padding(toLength: max(width, entry.name.count), withPad: " ", startingAt: 0)
            out += "  \(padded)  \(entry.dtype.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0))  [\(entry.shape.map(String.init).joined(separator: ", "))]\n"
        }
        let buffers = checkpoint.entries.filter { Checkpoint.isBufferName($0.name) }.count
        out += "parameters: \(checkpoint.parameterCount) (excluding \(buffers) BatchNorm running_mean/running_var and num_batches_tracked buffers)\n"
        out += "meta: \(checkpoint.meta?.jsonString() ?? "none")\n"
        out += "architecture: \(architecture ?? "not recognised")\n"
        return out
    }
}
