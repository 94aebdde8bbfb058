import Checkpoints
import Keypoints
import Tensors

/// A model family: how its checkpoints are recognised (parameter names, then shapes), the
/// architecture they hold, the built-in pipeline they run with, and which pipeline settings fit
/// them. `ModelFamilies.all` is the registry: a new family is one file and one line there.
public protocol ModelFamily: Sendable {
    /// The family's identifier (`ModelDescription.family`), as `inspect` shows it.
    var id: ModelDescription.Family { get }
    /// "a PoseWarper pose model", for messages saying what a file is.
    var title: String { get }
    /// The parameter that identifies the family's checkpoints, for "unrecognised" messages.
    var signature: String { get }
    /// mmpose-style name → the checkpoint's own name when the names are this family's (other
    /// releases' names mapped onto mmpose's), else nil.
    func canonicalNames(_ names: [String]) -> [String: String]?
    /// The architecture from canonical names and shapes, every key checked; throws for a layout the
    /// family does not build.
    func architecture(_ shapes: [String: [Int]]) throws -> any ModelArchitecture
    /// The built-in pipeline (`PipelineConfig.presets`) a checkpoint runs with when no pipeline file is given.
    var defaultPipeline: String { get }
    /// Why a pipeline's settings cannot run a checkpoint of this architecture (nil when they can).
    func problem(with settings: ModelSettings, architecture: any ModelArchitecture) -> String?
}

/// What a family infers from a checkpoint (HRNet families: `ModelDescription`).
public protocol ModelArchitecture: Sendable {
    /// One line for humans, e.g. "PoseWarper HRNet-W48 (17 joints, …)".
    var title: String { get }
    /// A compact JSON object (`posewarper inspect --json`'s "architecture").
    var summaryJSON: String { get }
}

extension ModelDescription: ModelArchitecture {}

/// The pipeline settings a model family checks against a checkpoint.
public struct ModelSettings: Sendable {
    /// The temporal window (frame offsets, current first; weights; neck dilations).
    public var temporal: PoseWarperOptions
    /// mmpose's flip test.
    public var flipTest: Bool

    public init(temporal: PoseWarperOptions, flipTest: Bool) {
        self.temporal = temporal
        self.flipTest = flipTest
    }
}

/// A family whose networks turn person crops into keypoint heatmaps: an HRNet backbone, then a
/// family-specific head.
public protocol PoseModelFamily: ModelFamily {
    /// The HRNet architecture from canonical names and shapes, every key checked.
    func describe(_ shapes: [String: [Int]]) throws -> ModelDescription
    /// Why a pipeline's settings cannot run a checkpoint of `description` (nil when they can).
    func problem(with settings: ModelSettings, description: ModelDescription) -> String?
    /// Why `options` cannot build a checkpoint of `description` (nil when they can).
    func problem(with options: PoseWarperOptions, description: ModelDescription) -> String?
    /// Every parameter such a checkpoint holds, for `options` (validation and construction).
    func spec(_ description: ModelDescription, options: PoseWarperOptions) -> ModelSpec
    /// The network after the backbone, from verified parameters.
    func head(_ spec: ModelSpec, description: ModelDescription, options: PoseWarperOptions,
              read: @escaping WeightReader) throws -> HeatmapHead
    /// The keypoint meaning the family's `joints`-keypoint checkpoints are trained for, when known.
    func defaultSchema(joints: Int) -> KeypointSchema?
}

extension PoseModelFamily {
    public func architecture(_ shapes: [String: [Int]]) throws -> any ModelArchitecture { try describe(shapes) }

    public func problem(with settings: ModelSettings, architecture: any ModelArchitecture) -> String? {
        (architecture as? ModelDescription).flatMap { problem(with: settings, description: $0) }
    }
}

/// The part of a pose network after the backbone.
public protocol HeatmapHead: AnyObject {
    /// Frames per person one output takes (current first).
    var framesPerSample: Int { get }
    /// Backbone features of crops → what is kept per crop (the features, or their heatmaps).
    func encode(_ features: Tensor) -> Tensor
    /// Per-frame encodings (current first, each [N, …]) → heatmaps [N, K, h, w].
    func combine(_ encodings: [Tensor]) -> Tensor
}

/// What a checkpoint is, as the registry recognises it from its parameter names.
public enum RecognisedModel: Sendable {
    /// A pose model of `family`, with mmpose name → the checkpoint's own name.
    case pose(ModelFamily, names: [String: String])
    /// A person detector of `family`, in the names of `layout`'s release.
    case detector(DetectorFamily, layout: DetectorDescription.Layout)

    /// "a PoseWarper pose model", "a YOLOX person detector".
    public var title: String {
        switch self {
        case let .pose(family, _): return family.title
        case let .detector(family, _): return family.title
        }
    }
}

/// The registry of model families: the one place that answers "which model is this?" for pose
/// and detector checkpoints alike (`inspect`, `forward`, `run`, `detect`).
public enum ModelFamilies {
    /// Every pose family, asked in this order (a PoseWarper neck wins over a top-down head).
    public static let all: [ModelFamily] = [
        PoseWarperFamily(),
        HRNetTopDownFamily(),
    ]

    /// Every person-detector family, asked after the pose families.
    public static let detectors: [DetectorFamily] = [
        YOLOXFamily(),
        RTMDetFamily(),
    ]

    /// The family of a checkpoint's parameter names, pose or detector; nil when none knows them.
    public static func identify(_ names: [String]) -> RecognisedModel? {
        if let (family, map) = recognise(names) { return .pose(family, names: map) }
        let set = Set(names)
        for family in detectors {
            if let layout = family.layout(of: set) { return .detector(family, layout: layout) }
        }
        return nil
    }

    /// The pose family whose names these are, with mmpose name → checkpoint name; nil when none knows them.
    public static func recognise(_ names: [String]) -> (family: ModelFamily, names: [String: String])? {
        for family in all {
            if let map = family.canonicalNames(names) { return (family, map) }
        }
        return nil
    }

    /// The registered family with this identifier.
    public static func family(_ id: ModelDescription.Family) -> ModelFamily? {
        all.first { $0.id == id }
    }

    /// The family and architecture of canonical shapes; throws when no family builds them.
    public static func architecture(_ shapes: [String: [Int]]) throws -> (family: ModelFamily, architecture: any ModelArchitecture) {
        guard let family = recognise(Array(shapes.keys))?.family else { throw unrecognised }
        return (family, try family.architecture(shapes))
    }

    /// The pose family and HRNet description of mmpose-named shapes; throws when no pose family builds them.
    public static func describe(_ shapes: [String: [Int]]) throws -> (family: PoseModelFamily, description: ModelDescription) {
        guard let family = recognise(Array(shapes.keys))?.family else { throw unrecognised }
        guard let pose = family as? PoseModelFamily else {
            throw ModelError("a \(family.id.rawValue) checkpoint is not a pose model")
        }
        return (pose, try pose.describe(shapes))
    }

    /// The architecture of a checkpoint (names mapped, every key checked), for `inspect`.
    public static func architecture(of checkpoint: Checkpoint) throws -> any ModelArchitecture {
        guard let (family, names) = recognise(checkpoint.entries.map(\.name)) else {
            throw ModelError("\(checkpoint.path): \(unrecognised.description)")
        }
        var shapes: [String: [Int]] = [:]
        for (canonical, original) in names { shapes[canonical] = checkpoint.shape(original) }
        do { return try family.architecture(shapes) } catch let error as ModelError {
            throw ModelError("\(checkpoint.path): \(error.description)")
        }
    }

    static var unrecognised: ModelError {
        ModelError("unrecognised model layout: neither " + all.map(\.signature).joined(separator: " nor "))
    }
}
