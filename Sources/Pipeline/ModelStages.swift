import Checkpoints
import Engine
import Foundation
import Keypoints
import Models
import Tensors
import Video

/// mmpose `TopDownAffine` + `NormalizeTensor`: box → center/scale (aspect fix, padding), the crop's
/// affine warp (cv2-exact bilinear) and per-channel normalisation, straight into the batch tensor.
public final class TopDownCropStage: CropStage {
    public let geometry: TopDownGeometry
    let mean: [Float], std: [Float]
    public var inputWidth: Int { geometry.inputWidth }
    public var inputHeight: Int { geometry.inputHeight }

    public init(model: PipelineConfig.Model, padding: Double) {
        geometry = TopDownGeometry(inputWidth: model.inputWidth, inputHeight: model.inputHeight, padding: padding)
        mean = model.mean
        std = model.std
    }

    public func transform(for box: PersonBox) -> CropTransform {
        geometry.crop(box: box.x, box.y, box.width, box.height)
    }

    public func crop(_ frame: VideoFrame, _ transform: CropTransform, into: UnsafeMutablePointer<Float>) {
        let matrix = geometry.affineMatrix(transform)
        frame.rgb.withUnsafeBufferPointer { rgb in
            warpAffineNormalized(rgb: rgb, width: frame.width, height: frame.height, rowStride: frame.width * 3, matrix: matrix,
                                 outWidth: geometry.inputWidth, outHeight: geometry.inputHeight, mean: mean, std: std, into: into)
        }
    }
}

/// A checkpoint's network as the pipeline's network stage: per-crop encodings (backbone features
/// for PoseWarper; heatmaps, with mmpose's flip test when asked, for top-down), combined over a
/// window by the model's family (PoseWarper's neck; the one frame for top-down).
public final class PoseModelNetwork: PoseNetwork {
    public let model: PoseModel
    let flipTest: Bool
    let shiftHeatmap: Bool
    let flipPairs: [[Int]]

    public init(model: PoseModel, config: PipelineConfig) {
        self.model = model
        flipTest = config.model.flipTest
        shiftHeatmap = config.model.shiftHeatmap
        flipPairs = config.model.schema.flipPairs
    }

    public func encode(_ crops: Tensor) -> Tensor {
        // Flip test is only accepted for single-frame models (the family validates the pipeline),
        // whose encodings are heatmaps.
        let encoded = model.encode(crops)
        guard flipTest else { return encoded }
        let flipped = model.encode(Self.mirrored(crops))
        return HeatmapDecoder.flipTestAverage(encoded, flipped: flipped, flipPairs: flipPairs, shift: shiftHeatmap)
    }

    public func heatmaps(from encodings: [Tensor]) -> Tensor {
        model.combine(encodings)
    }

    /// The crops mirrored left–right (mmpose flips the image before the network in flip test).
    static func mirrored(_ x: Tensor) -> Tensor {
        let w = x.shape[3]
        let rows = x.count / w
        return Tensor(shape: x.shape) { out in
            x.withUnsafeBufferPointer { inp in
                for r in 0..<rows {
                    for c in 0..<w { out[r * w + c] = inp[r * w + w - 1 - c] }
                }
            }
        }
    }
}

/// mmpose `keypoints_from_heatmaps` through the crop's center/scale.
public final class HeatmapKeypointStage: KeypointDecodingStage {
    let decoder: HeatmapDecoder

    public init(model: PipelineConfig.Model) {
        decoder = HeatmapDecoder(postProcess: model.postProcess, kernel: model.modulateKernel)
    }

    public func decode(_ heatmaps: Tensor, transforms: [CropTransform]) -> [[[Double]]] {
        decoder.decode(heatmaps, crops: transforms).map { person in
            person.map { [Double($0.x), Double($0.y), Double($0.score)] }
        }
    }
}

extension PoseJob {
    /// A job running a checkpoint with a pipeline's settings; `weights` overrides the pipeline's.
    public convenience init(pipeline config: PipelineConfig, weights: String? = nil) throws {
        try self.init(config: config, model: PoseJob.loadModel(config, weights: weights))
    }

    /// The checkpoint a pipeline names (or `weights`), built with its temporal options.
    public static func loadModel(_ config: PipelineConfig, weights: String? = nil) throws -> PoseModel {
        guard let path = weights ?? config.model.weights else {
            throw PipelineError.badInput("no weights: pass --weights FILE (or set model.weights in the pipeline file)")
        }
        guard FileManager.default.fileExists(atPath: path) else {
            var hint = ""
            if weights == nil, let file = config.path { hint = " (model.weights in \(file)); download the checkpoint named there, or pass --weights FILE" }
            throw PipelineError.badInput("\(path): weights file not found\(hint)")
        }
        if let problem = config.model.precision.problem {
            throw PipelineError.badInput("\(config.path ?? "the pipeline"): model.precision \(config.model.precision.rawValue): \(problem)")
        }
        let options = config.temporal.poseWarperOptions
        let model: PoseModel
        do { model = try PoseModel.load(weights: path, options: options) } catch {
            throw PipelineError.badInput("\(error)")
        }
        model.precision = config.model.precision
        return model
    }

    /// A job with an already loaded model; checks that the model and the pipeline agree.
    public convenience init(config: PipelineConfig, model: PoseModel) throws {
        let source = config.path ?? "the pipeline"
        if model.numJoints != config.model.schema.keypoints.count {
            throw PipelineError.badInput("\(source): the model predicts \(model.numJoints) keypoints but schema \(config.model.schema.name) has \(config.model.schema.keypoints.count)")
        }
        let settings = ModelSettings(temporal: config.temporal.poseWarperOptions, flipTest: config.model.flipTest)
        if let problem = model.family.problem(with: settings, description: model.description) {
            throw PipelineError.badInput("\(source): \(problem)")
        }
        self.init(config: config, crops: TopDownCropStage(model: config.model, padding: config.persons.bboxPadding),
                  network: PoseModelNetwork(model: model, config: config), decoder: HeatmapKeypointStage(model: config.model))
    }

    /// The built-in settings matching a checkpoint when no pipeline file is given: its model
    /// family's default pipeline (mmpose's stage-2 PoseTrack18 PoseWarper, or HRNet COCO top-down).
    /// A checkpoint no family recognises gets the top-down settings, and loading it names the problem.
    public static func defaultConfig(forWeights path: String) throws -> PipelineConfig {
        let checkpoint: Checkpoint
        do { checkpoint = try Checkpoint.load(path) } catch { throw PipelineError.badInput("\(error)") }
        let family = ModelFamilies.recognise(checkpoint.entries.map(\.name))?.family
        var config = family.flatMap { PipelineConfig.presets[$0.defaultPipeline] } ?? PipelineConfig.hrnetCOCO
        config.model.weights = path
        return config
    }
}
