import Checkpoints
import Engine
import Foundation
import Keypoints
import Tensors

/// PoseWarper test-time options (mmpose stage-2 PoseTrack18 values by default).
public struct PoseWarperOptions: Sendable, Equatable {
    /// Dilations of the offset / deformable convs, one per `neck.offset_layers.j`.
    public var dilations: [Int]
    /// Weight of each frame, in `frameOffsets` order (current frame first).
    public var frameWeights: [Float]
    /// Frame offsets relative to the current frame: [0, −2, −1, +1, +2].
    public var frameOffsets: [Int]

    /// mmpose's stage-2 PoseTrack18 PoseWarper config: the one place these values are written
    /// (the pipeline presets and the pipeline-file parser take them from here).
    public static let mmposeStage2 = PoseWarperOptions(dilations: [3, 6, 12, 18, 24], frameWeights: [0.3, 0.1, 0.25, 0.25, 0.1],
                                                       frameOffsets: [0, -2, -1, 1, 2])

    public init(dilations: [Int] = PoseWarperOptions.mmposeStage2.dilations,
                frameWeights: [Float] = PoseWarperOptions.mmposeStage2.frameWeights,
                frameOffsets: [Int] = PoseWarperOptions.mmposeStage2.frameOffsets) {
        self.dilations = dilations
        self.frameWeights = frameWeights
        self.frameOffsets = frameOffsets
    }

    /// Describes the first inconsistency, or nil.
    public var problem: String? {
        if dilations.isEmpty || dilations.contains(where: { $0 < 1 }) { return "dilations must be positive integers, got \(dilations)" }
        if frameWeights.count != frameOffsets.count {
            return "\(frameWeights.count) frame weights for \(frameOffsets.count) frame offsets"
        }
        if frameOffsets.first != 0 { return "the first frame offset must be 0 (the current frame), got \(frameOffsets)" }
        if frameWeights.contains(where: { !$0.isFinite }) { return "frame weights must be finite, got \(frameWeights)" }
        return nil
    }
}

/// A pose model of any registered `PoseModelFamily` (HRNet top-down, PoseWarper), built from a
/// checkpoint's names and shapes: the HRNet backbone, then the family's head.
public final class PoseModel {
    public let family: PoseModelFamily
    public let description: ModelDescription
    public let options: PoseWarperOptions
    public let numJoints: Int
    /// Input heights and widths must be multiples of this (HRNet's 5 stride-2 levels).
    public let inputMultiple = 32
    /// The arithmetic of this model's convolutions (float32 unless set; set bfloat16 only where
    /// `Precision.bfloat16.problem` is nil). Applies to every method below and to `neck`'s.
    public var precision: Precision = .float32 {
        didSet {
            precondition(precision.problem == nil, precision.problem ?? "")
            neck?.precision = precision
        }
    }

    let backbone: HRNetBackbone
    let head: HeatmapHead

    /// The PoseWarper neck in parts (offsets from a pair of heatmaps, warping with given offsets),
    /// e.g. to propagate label heatmaps; nil for other families.
    public var neck: PoseWarperNeckLayer? { head as? PoseWarperNeckLayer }

    /// The family's identifier (`.topDown`, `.poseWarper`).
    public var kind: ModelDescription.Family { family.id }

    /// Loads a checkpoint (mmpose or 2019-release names) and builds the network it describes.
    public static func load(weights: String, options: PoseWarperOptions = .init()) throws -> PoseModel {
        let checkpoint = try Checkpoint.load(weights)
        return try PoseModel(checkpoint: checkpoint, options: options)
    }

    /// mmpose-named shapes of a checkpoint and mmpose name → the checkpoint's own name.
    static func canonicalShapes(_ checkpoint: Checkpoint) throws -> (shapes: [String: [Int]], names: [String: String]) {
        let all = checkpoint.entries.map(\.name)
        guard let (_, names) = ModelFamilies.recognise(all) else {
            if let error = notAPoseModel(all, file: checkpoint.path) { throw error }
            throw ModelError("\(checkpoint.path): \(ModelFamilies.unrecognised.description)")
        }
        var shapes: [String: [Int]] = [:]
        for (canonical, original) in names { shapes[canonical] = checkpoint.shape(original) }
        return (shapes, names)
    }

    /// The architecture of a checkpoint whose every key fits the inferred layout; throws otherwise.
    public static func describe(_ checkpoint: Checkpoint) throws -> ModelDescription {
        let shapes = try canonicalShapes(checkpoint).shapes
        do { return try ModelFamilies.describe(shapes).description } catch let error as ModelError {
            throw notAPoseModel(Array(shapes.keys), file: checkpoint.path) ?? ModelError("\(checkpoint.path): \(error.description)")
        }
    }

    /// Builds the network from an already opened checkpoint.
    public convenience init(checkpoint: Checkpoint, options: PoseWarperOptions = .init()) throws {
        let (shapes, sourceName) = try Self.canonicalShapes(checkpoint)
        let file = checkpoint.path
        try self.init(shapes: shapes, options: options, file: file) { name in
            guard let original = sourceName[name] else { throw ModelError("\(file): no parameter '\(name)'") }
            return try checkpoint.tensor(original)
        }
    }

    /// Builds the network from mmpose-named shapes and a reader of mmpose-named parameters
    /// (used with checkpoints, and with random weights in benchmarks).
    public init(shapes: [String: [Int]], options: PoseWarperOptions = .init(), file: String,
                read: @escaping (String) throws -> Tensor) throws {
        let family: PoseModelFamily, description: ModelDescription
        do { (family, description) = try ModelFamilies.describe(shapes) } catch let error as ModelError {
            throw Self.notAPoseModel(Array(shapes.keys), file: file) ?? ModelError("\(file): \(error.description)")
        }
        if let problem = options.problem { throw ModelError("\(file): invalid PoseWarper options: \(problem)") }
        if let problem = family.problem(with: options, description: description) { throw ModelError("\(file): \(problem)") }
        let spec = family.spec(description, options: options)
        // Shapes are verified (the family's description checks every key), so every read below
        // finds its tensor with the right shape.
        let reader: WeightReader = { name in
            do { return try read(name) } catch let error as ModelError { throw error } catch {
                throw ModelError("\(file): cannot read '\(name)': \(error)")
            }
        }
        self.family = family
        self.description = description
        self.options = options
        self.numJoints = description.joints
        backbone = try HRNetBackbone(spec.backbone, reader)
        head = try family.head(spec, description: description, options: options, read: reader)
    }

    /// Backbone features: [N, 3, H, W] → [N, C, H/4, W/4] (H, W multiples of 32).
    public func features(_ x: Tensor) -> Tensor {
        precondition(x.rank == 4 && x.shape[1] == 3, "input must be [N, 3, H, W], got \(x.shape)")
        precondition(x.shape[2] % inputMultiple == 0 && x.shape[3] % inputMultiple == 0,
                     "input height and width must be multiples of \(inputMultiple), got \(x.shape)")
        // Convolution algorithms are chosen as for one crop whatever the batch, so a crop's features
        // do not depend on the crops it is batched with: a run from --start (or a segment) computes
        // the same bits as a whole run, which batches its first windows differently.
        return precision.run { backbone(x, planBatch: 1) }
    }

    /// What a crop contributes to the windows it is part of: backbone features (PoseWarper) or
    /// heatmaps (top-down): [N, 3, H, W] → [N, …].
    public func encode(_ x: Tensor) -> Tensor { precision.run { head.encode(features(x)) } }

    /// Per-frame encodings (options' frame order, current frame first) → heatmaps [N, K, h, w].
    public func combine(_ encodings: [Tensor]) -> Tensor {
        precondition(encodings.count == framesPerSample, "\(encodings.count) frames given, the model takes \(framesPerSample)")
        return precision.run { head.combine(encodings) }
    }

    /// Single-frame heatmaps: backbone + head → [N, K, H/4, W/4].
    public func heatmaps(_ x: Tensor) -> Tensor {
        precondition(framesPerSample == 1, "heatmaps(_:) needs a single-frame model; use forward(_:) or aggregate(_:)")
        return combine([encode(x)])
    }

    /// The temporal aggregation (PoseWarper neck) on per-frame features → [N, K, h, w].
    public func aggregate(_ frames: [Tensor]) -> Tensor { combine(frames) }

    /// The keypoint meaning the checkpoint's family is trained for (PoseWarper: PoseTrack18,
    /// top-down HRNet: COCO-17); nil for other joint counts (a pipeline file must then name the schema).
    public var defaultSchema: KeypointSchema? { family.defaultSchema(joints: numJoints) }

    /// Number of input frames per person a forward takes (1 for top-down).
    public var framesPerSample: Int { head.framesPerSample }

    /// [F·N, 3, H, W], frame-major (the N crops of the current frame, then of each other frame in
    /// options order; F = `framesPerSample`) → heatmaps [N, K, H/4, W/4].
    public func forward(_ x: Tensor) -> Tensor {
        let frames = framesPerSample
        precondition(x.shape[0] % frames == 0, "a \(kind.rawValue) input needs a multiple of \(frames) images, got \(x.shape[0])")
        let n = x.shape[0] / frames
        // Frames with weight 0 feed nothing (mmpose skips them), except frame 0, whose heatmap
        // every difference uses: their encodings stay zero.
        let first = encode(sliceBatch(x, start: 0, count: n))
        let perFrame: [Tensor] = [first] + (1..<max(frames, 1)).map { i in
            if options.frameWeights[i] == 0 { return Tensor(shape: first.shape) }
            return encode(sliceBatch(x, start: i * n, count: n))
        }
        return combine(perFrame)
    }
}
