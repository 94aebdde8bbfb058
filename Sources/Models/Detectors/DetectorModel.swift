import Checkpoints
import Foundation
import Tensors

/// A YOLOX or RTMDet person detector built from an official checkpoint's names and shapes.
public final class DetectorModel: @unchecked Sendable {   // immutable after init; forward is thread-safe
    public let description: DetectorDescription
    private let backbone: DetectorBackbone
    private let neck: DetectorNeck
    private let head: DetectorHead

    /// Loads a checkpoint (Megvii YOLOX, mmdet YOLOX or mmdet RTMDet names) and builds its network.
    public static func load(weights: String) throws -> DetectorModel {
        try DetectorModel(checkpoint: try Checkpoint.load(weights))
    }

    /// The detector architecture of a checkpoint whose every key fits it; throws otherwise.
    public static func describe(_ checkpoint: Checkpoint) throws -> DetectorDescription {
        try DetectorModel(checkpoint: checkpoint, buildOnly: true).description
    }

    public convenience init(checkpoint: Checkpoint) throws {
        try self.init(checkpoint: checkpoint, buildOnly: false)
    }

    private convenience init(checkpoint: Checkpoint, buildOnly: Bool) throws {
        var shapes: [String: [Int]] = [:]
        for e in checkpoint.entries { shapes[e.name] = e.shape }
        try self.init(shapes: shapes, file: checkpoint.path, zeros: buildOnly) { try checkpoint.tensor($0) }
    }

    /// Builds the network from a checkpoint's names → shapes and a reader of its tensors (original names).
    init(shapes: [String: [Int]], file: String, zeros: Bool = false, read: @escaping (String) throws -> Tensor) throws {
        let layout: DetectorDescription.Layout
        switch ModelFamilies.identify(Array(shapes.keys)) {
        case let .detector(_, found)?: layout = found
        case let .pose(family, _)?:
            throw ModelError("\(file): this is \(family.title) checkpoint, not a person detector (YOLOX or RTMDet)")
        case nil:
            throw ModelError("\(file): not a YOLOX or RTMDet detector checkpoint (no \(ModelFamilies.detectors.map(\.signature).joined(separator: " and no ")))")
        }
        let description: DetectorDescription
        do {
            description = try DetectorDescription.infer(layout: layout) { shapes[DetectorNames.original($0, layout)] }
        } catch let error as ModelError {
            throw ModelError("\(file): \(error.description)")
        }
        let weights = DetectorWeights(layout: layout, shapes: shapes) { name in
            if zeros { return Tensor(shape: shapes[name]!) }
            do { return try read(name) } catch { throw ModelError("\(file): cannot read '\(name)': \(error)") }
        }
        backbone = try DetectorBackbone(weights, description)
        neck = try DetectorNeck(weights, description)
        head = try DetectorHead(weights, description)
        if let problems = weights.problems {
            throw ModelError("\(file): does not match the \(description.title) layout inferred from it: \(problems)")
        }
        self.description = description
    }

    /// Builds `description`'s network with parameters made by `make(name, shape)`.
    init(synthesizing description: DetectorDescription, _ make: @escaping (String, [Int]) -> Tensor) throws {
        let weights = DetectorWeights(layout: .mmdet, shapes: [:]) { _ in Tensor(shape: []) }
        weights.synthesize = make
        backbone = try DetectorBackbone(weights, description)
        neck = try DetectorNeck(weights, description)
        head = try DetectorHead(weights, description)
        self.description = description
    }

    /// Raw head outputs for a batch [N, 3, H, W] (H, W multiples of 32), one entry per level (strides 8, 16, 32).
    public func forward(_ x: Tensor) -> [DetectorLevelOutput] {
        precondition(x.rank == 4 && x.shape[1] == 3, "detector input must be [N, 3, H, W], got \(x.shape)")
        precondition(x.shape[2] % description.inputMultiple == 0 && x.shape[3] % description.inputMultiple == 0,
                     "detector input height and width must be multiples of \(description.inputMultiple), got \(x.shape)")
        return head(neck(backbone(x)))
    }
}
