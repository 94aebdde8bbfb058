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

    public init(dilations: [Int] = [3, 6, 12, 18, 24], frameWeights: [Float] = [0.3, 0.1, 0.25, 0.25, 0.1],
                frameOffsets: [Int] = [0, -2, -1, 1, 2]) {
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

/// An HRNet top-down model or a PoseWarper, built from a checkpoint's names and shapes.
public final class PoseModel {
    public enum Kind: String, Sendable { case topDown, poseWarper }

    public let kind: Kind
    public let description: ModelDescription
    public let options: PoseWarperOptions
    public let numJoints: Int
    /// Input heights and widths must be multiples of this (HRNet's 5 stride-2 levels).
    public let inputMultiple = 32

    let backbone: HRNetBackbone
    let head: Conv2d?
    let neck: PoseWarperNeckLayer?

    /// Loads a checkpoint (mmpose or 2019-release names) and builds the network it describes.
    public static func load(weights: String, options: PoseWarperOptions = .init()) throws -> PoseModel {
        let checkpoint = try Checkpoint.load(weights)
        return try PoseModel(checkpoint: checkpoint, options: options)
    }

    /// mmpose name → the checkpoint's own name (2019-release names are mapped).
    static func sourceNames(_ checkpoint: Checkpoint) -> [String: String] {
        let names = checkpoint.entries.map(\.name)
        if OfficialNames.isOfficial2019(names) { return OfficialNames.mmposeNames(names) }
        return Dictionary(names.map { ($0, $0) }, uniquingKeysWith: { a, _ in a })
    }

    /// The architecture of a checkpoint whose every key fits the inferred layout; throws otherwise.
    public static func describe(_ checkpoint: Checkpoint) throws -> ModelDescription {
        var shapes: [String: [Int]] = [:]
        for (mmpose, original) in sourceNames(checkpoint) { shapes[mmpose] = checkpoint.shape(original) }
        let description: ModelDescription
        do { description = try ModelDescription.infer(shapes: shapes) } catch let error as ModelError {
            throw notAPoseModel(shapes, file: checkpoint.path) ?? ModelError("\(checkpoint.path): \(error.description)")
        }
        let dilations = PoseWarperOptions().dilations
        let count = description.neck?.offsetLayers ?? dilations.count
        let spec = ModelSpec(description, dilations: (0..<count).map { dilations[min($0, dilations.count - 1)] })
        if let mismatch = spec.mismatch(shapes) {
            throw ModelError("\(checkpoint.path): does not match the \(description.title) layout inferred from it: \(mismatch)")
        }
        return description
    }

    /// Builds the network from an already opened checkpoint.
    public convenience init(checkpoint: Checkpoint, options: PoseWarperOptions = .init()) throws {
        let sourceName = Self.sourceNames(checkpoint)
        var shapes: [String: [Int]] = [:]
        for (mmpose, original) in sourceName { shapes[mmpose] = checkpoint.shape(original) }
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
        let description: ModelDescription
        do { description = try ModelDescription.infer(shapes: shapes) } catch let error as ModelError {
            throw Self.notAPoseModel(shapes, file: file) ?? ModelError("\(file): \(error.description)")
        }
        if let problem = options.problem { throw ModelError("\(file): invalid PoseWarper options: \(problem)") }
        if let neck = description.neck, neck.offsetLayers != options.dilations.count {
            throw ModelError("\(file): the checkpoint has \(neck.offsetLayers) offset layers but \(options.dilations.count) dilations were given (\(options.dilations))")
        }
        let spec = ModelSpec(description, dilations: options.dilations)
        if let mismatch = spec.mismatch(shapes) {
            throw ModelError("\(file): does not match the \(description.title) layout inferred from it: \(mismatch)")
        }
        // Shapes are verified, so every read below finds its tensor with the right shape.
        let reader: WeightReader = { name in
            do { return try read(name) } catch let error as ModelError { throw error } catch {
                throw ModelError("\(file): cannot read '\(name)': \(error)")
            }
        }
        self.description = description
        self.options = options
        self.numJoints = description.joints
        self.kind = description.family == .poseWarper ? .poseWarper : .topDown
        backbone = try HRNetBackbone(spec.backbone, reader)
        head = try spec.head.map { try Conv2d.make($0, reader) }
        neck = try spec.neck.map { try PoseWarperNeckLayer($0, deformGroups: description.neck!.deformGroups, reader) }
    }

    /// Backbone features: [N, 3, H, W] → [N, C, H/4, W/4] (H, W multiples of 32).
    public func features(_ x: Tensor) -> Tensor {
        precondition(x.rank == 4 && x.shape[1] == 3, "input must be [N, 3, H, W], got \(x.shape)")
        precondition(x.shape[2] % inputMultiple == 0 && x.shape[3] % inputMultiple == 0,
                     "input height and width must be multiples of \(inputMultiple), got \(x.shape)")
        return backbone(x)
    }

    /// Top-down heatmaps: backbone + `keypoint_head.final_layer` → [N, K, H/4, W/4].
    public func heatmaps(_ x: Tensor) -> Tensor {
        precondition(kind == .topDown, "heatmaps(_:) needs a top-down model; use forward(_:) or aggregate(_:)")
        return head!(features(x))
    }

    /// PoseWarper neck on per-frame features (options' frame order, current frame first) → [N, K, h, w].
    public func aggregate(_ frames: [Tensor]) -> Tensor {
        precondition(kind == .poseWarper, "aggregate(_:) needs a PoseWarper model")
        precondition(frames.count == options.frameWeights.count,
                     "\(frames.count) frames given, the options have \(options.frameWeights.count) frame weights")
        return neck!(frames, frameWeights: options.frameWeights)
    }

    /// The keypoint meaning the checkpoint's family is trained for: the mmpose PoseWarper release is
    /// PoseTrack18 (slots 1/2 = head_bottom/head_top), 17-joint top-down HRNets are COCO-17;
    /// nil for other joint counts (a pipeline file must then name the schema).
    public var defaultSchema: KeypointSchema? {
        guard numJoints == 17 else { return nil }
        return kind == .poseWarper ? .posetrack18 : .coco17
    }

    /// Number of input frames per person a PoseWarper forward takes (1 for top-down).
    public var framesPerSample: Int { kind == .poseWarper ? options.frameWeights.count : 1 }

    /// Top-down: [N, 3, H, W] → heatmaps. PoseWarper: [F·N, 3, H, W], frame-major (the N crops of
    /// the current frame, then of each other frame in options order) → [N, K, H/4, W/4].
    public func forward(_ x: Tensor) -> Tensor {
        guard kind == .poseWarper else { return heatmaps(x) }
        let frames = framesPerSample
        precondition(x.shape[0] % frames == 0, "a PoseWarper input needs a multiple of \(frames) images, got \(x.shape[0])")
        let n = x.shape[0] / frames
        // Frames with weight 0 still feed nothing but their own (skipped) warp, except frame 0,
        // whose heatmap every difference uses.
        let perFrame: [Tensor] = (0..<frames).map { i in
            if i > 0 && options.frameWeights[i] == 0 {
                return Tensor(shape: [n, description.featureChannels, x.shape[2] / 4, x.shape[3] / 4])
            }
            return features(sliceBatch(x, start: i * n, count: n))
        }
        return aggregate(perFrame)
    }
}
