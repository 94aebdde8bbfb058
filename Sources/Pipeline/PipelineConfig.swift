import Engine
import Foundation
import Models
import Keypoints
import Video

/// A pipeline file's settings: what model to run, on which persons, and what to write by default.
public struct PipelineConfig: Sendable {
    /// The network and its pre/post-processing.
    public struct Model: Sendable {
        /// Checkpoint path, resolved against the pipeline file's folder when relative; nil = must be given.
        public var weights: String?
        /// The keypoint slots the model predicts.
        public var schema: KeypointSchema
        /// Network input (crop) size in pixels: width, height (multiples of 32).
        public var inputWidth: Int
        public var inputHeight: Int
        /// Heatmap size: width, height (the input size / 4 for HRNet).
        public var heatmapWidth: Int
        public var heatmapHeight: Int
        /// Per-channel RGB normalisation applied to v/255.
        public var mean: [Float]
        public var std: [Float]
        /// Average with the horizontally flipped crop's heatmaps (mmpose test_cfg.flip_test).
        public var flipTest: Bool
        /// Shift flipped heatmaps one pixel right before averaging (mmpose test_cfg.shift_heatmap).
        public var shiftHeatmap: Bool
        /// Heatmap decoding: "default" (argmax ±0.25 px) or "unbiased" (DARK).
        public var postProcess: PostProcess
        /// Gaussian kernel size for "unbiased" decoding (mmpose modulate_kernel).
        public var modulateKernel: Int
        /// Sigma in heatmap pixels of the Gaussians the model was trained on (mmpose
        /// TopDownGenerateTarget sigma); `propagate --method warp` draws label heatmaps with it.
        public var sigma: Double = 2
        /// The pose network's arithmetic: float32, or the approximate bfloat16 products (CPUs with
        /// AVX512-BF16 only). The person detector always runs float32.
        public var precision: Precision = .float32
    }

    /// Heatmap decoding method (mmpose test_cfg.post_process); pipeline files take default or unbiased.
    public typealias PostProcess = HeatmapDecoder.PostProcess

    /// PoseWarper's temporal window; a single-frame model uses offsets [0].
    public struct Temporal: Sendable {
        /// Frame offsets relative to the current frame, current first (mmpose order [0, −2, −1, +1, +2]).
        public var frameOffsets: [Int]
        /// Weight of each offset in the aggregated heatmap, same order.
        public var frameWeights: [Float]
        /// Dilations of the PoseWarper neck's offset and deformable convolutions.
        public var dilations: [Int]

        public init(frameOffsets: [Int], frameWeights: [Float], dilations: [Int]) {
            self.frameOffsets = frameOffsets
            self.frameWeights = frameWeights
            self.dilations = dilations
        }

        /// The window of a PoseWarper's options.
        public init(_ options: PoseWarperOptions) {
            self.init(frameOffsets: options.frameOffsets, frameWeights: options.frameWeights, dilations: options.dilations)
        }

        /// A single-frame model (the dilations are unused; mmpose's stage-2 values).
        public static let singleFrame = Temporal(frameOffsets: [0], frameWeights: [1], dilations: PoseWarperOptions.mmposeStage2.dilations)
    }

    /// Where person boxes come from.
    public enum PersonSourceKind: String, Sendable, CaseIterable {
        case boxesFile = "boxes_file", wholeFrame = "whole_frame", detector
    }

    /// Person boxes: their source, filtering and the crop padding.
    public struct Persons: Sendable {
        public var source: PersonSourceKind
        /// Boxes file path (resolved like weights); nil = must be given with --boxes.
        public var boxesFile: String?
        /// Boxes scoring below this are dropped (mmpose det_bbox_thr).
        public var scoreThreshold: Double
        /// Box IoU non-maximum suppression threshold, or nil for none.
        public var nmsThreshold: Double?
        /// Crop size relative to the box (mmpose's 1.25 in `_box2cs`).
        public var bboxPadding: Double
        /// The person detector's weights and settings (`persons.detector`; used when `source` is
        /// `detector` or a run passes `--detector`); unset values take the family's defaults.
        public var detector = DetectorSection()
    }

    /// How track ids are assigned.
    public enum TrackingMethod: String, Sendable, CaseIterable { case iou, oks, none }

    /// Greedy frame-to-frame matching (mmpose `get_track_id`).
    public struct Tracking: Sendable {
        public var method: TrackingMethod
        /// Minimum IoU (or OKS) for a match with the previous frame.
        public var threshold: Double
    }

    /// Temporal smoothing of the keypoints per track (after tracking, before the outputs).
    public struct Smoothing: Sendable {
        /// The filter, or nil for none (the default: keypoints as the network found them).
        public var method: SmoothingMethod?
        /// Joints scoring below this pass through unsmoothed and do not pull their neighbours.
        public var scoreThreshold: Double
    }

    /// Defaults for the written outputs.
    public struct Output: Sendable {
        /// Keypoints scoring below this are not drawn (mmpose kpt_score_thr 0.3).
        public var drawThreshold: Double
        /// Keypoint circle radius and link thickness in pixels; nil scales them with the frame.
        public var radius: Int?
        public var thickness: Int?
        /// Draw person boxes and track ids on the annotated video.
        public var drawBoxes: Bool
        /// Keypoints scoring above this count toward the rescored instance score in COCO/PoseTrack
        /// results (mmpose vis_thr 0.2: mean of those scores × box score).
        public var rescoreThreshold: Double
        /// Annotated video: label text, skeleton colouring, motion trail length (0: none), hollow
        /// low-score keypoints, label font.
        public var label: RenderStyle.Label = .id
        public var colorBy: RenderStyle.ColorBy = .part
        public var trails: Int = 0
        public var showLow: Bool = false
        public var font: String = LabelFont.defaultPath
    }

    public var model: Model
    public var temporal: Temporal
    public var persons: Persons
    public var tracking: Tracking
    public var smoothing: Smoothing
    public var output: Output
    /// The file these settings came from (nil when built in code).
    public var path: String?

    // The defaults, in one place: the pipeline-file parser starts from `defaults`, the presets
    // below change what their mmpose configs change, and the temporal values come from
    // `PoseWarperOptions.mmposeStage2` (which the Models module's initialisers use too).

    /// mmpose's test-time defaults: what every unset key of a pipeline file means (single frame, no
    /// flip test, det_bbox_thr 0.2, IoU tracking at 0.3).
    public static let defaults = PipelineConfig(
        model: Model(weights: nil, schema: .coco17, inputWidth: 192, inputHeight: 256, heatmapWidth: 48,
                     heatmapHeight: 64, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], flipTest: false,
                     shiftHeatmap: true, postProcess: .default, modulateKernel: 11),
        temporal: .singleFrame,
        persons: Persons(source: .boxesFile, boxesFile: nil, scoreThreshold: 0.2, nmsThreshold: nil, bboxPadding: 1.25),
        tracking: Tracking(method: .iou, threshold: 0.3),
        smoothing: Smoothing(method: nil, scoreThreshold: 0.3),
        output: Output(drawThreshold: 0.3, radius: nil, thickness: nil, drawBoxes: true, rescoreThreshold: PersonPose.defaultRescoreThreshold),
        path: nil)

    /// mmpose's stage-2 PoseTrack18 PoseWarper settings (the shipped posewarper pipeline file).
    public static let poseWarperPoseTrack18: PipelineConfig = {
        var config = defaults
        config.model.schema = .posetrack18
        (config.model.inputWidth, config.model.inputHeight) = (288, 384)
        (config.model.heatmapWidth, config.model.heatmapHeight) = (72, 96)
        config.temporal = Temporal(PoseWarperOptions.mmposeStage2)
        config.model.sigma = 3   // TopDownGenerateTarget sigma of the stage-2 config
        return config
    }()

    /// mmpose's HRNet-W32 COCO 256×192 top-down settings (single frame, flip test on, all boxes).
    public static let hrnetCOCO: PipelineConfig = {
        var config = defaults
        config.model.flipTest = true
        config.persons.scoreThreshold = 0
        return config
    }()

    /// The built-in pipelines by name (a model family's `defaultPipeline`): the settings of the
    /// shipped `Pipelines/NAME.yml` files.
    public static let presets: [String: PipelineConfig] = [
        "posewarper-hrnet-w48-posetrack18-384x288": poseWarperPoseTrack18,
        "hrnet-w32-coco-256x192": hrnetCOCO,
    ]

    /// Frames needed before the current one and after it (2 and 2 for PoseWarper).
    public var lookBehind: Int { max(0, -(temporal.frameOffsets.min() ?? 0)) }
    public var lookAhead: Int { max(0, temporal.frameOffsets.max() ?? 0) }

}

extension PipelineConfig.Temporal {
    /// The network options this window implies (frame order, weights and neck dilations).
    public var poseWarperOptions: PoseWarperOptions {
        PoseWarperOptions(dilations: dilations, frameWeights: frameWeights, frameOffsets: frameOffsets)
    }
}
