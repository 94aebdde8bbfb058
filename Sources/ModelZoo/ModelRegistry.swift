import Foundation

/// A checkpoint known by name: where it comes from, what it is, and the pipeline file that runs it.
public struct ModelEntry: Sendable, Equatable {
    /// What the checkpoint does.
    public enum Task: String, Sendable {
        /// Keypoints of one frame (`run`).
        case pose = "pose"
        /// Keypoints from a window of frames (`run`).
        case videoPose = "video pose"
        /// Person boxes (`detect`, `run --detector`).
        case detection = "person detection"
    }

    /// Where the file comes from.
    public enum Source: Sendable, Equatable {
        /// Downloaded from the URL as published by its model zoo.
        case download(URL)
        /// Shipped in the repository, at this path relative to its root.
        case bundled(String)
    }

    /// The name users type (`--model NAME`).
    public let name: String
    /// The architecture and release, in words.
    public let family: String
    public let task: Task
    /// Training data and input size, in words.
    public let detail: String
    public let source: Source
    /// The pipeline file that runs the checkpoint, relative to the repository root; nil = the settings
    /// follow the checkpoint (detectors: their release's; pose models: `run`'s defaults).
    public let pipeline: String?

    public init(name: String, family: String, task: Task, detail: String, source: Source, pipeline: String? = nil) {
        (self.name, self.family, self.task, self.detail, self.source, self.pipeline) = (name, family, task, detail, source, pipeline)
    }

    /// The file name as published (the cache keeps it, so the file is recognisable anywhere).
    public var fileName: String {
        switch source {
        case .download(let url): return url.lastPathComponent
        case .bundled(let path): return URL(fileURLWithPath: path).lastPathComponent
        }
    }

    /// The SHA-256 prefix the published file name carries (`…-c78dce93_20200708.pth`,
    /// `…-4592a793.pth`: OpenMMLab's `publish_model` and torch.hub's convention); nil when the name
    /// has none (Megvii's `yolox_s.pth`), and then only the download's length is checked.
    public var sha256Prefix: String? { Self.sha256Prefix(inFileName: fileName) }

    /// The hash prefix in a published file name: 8 or more hex digits after the last `-`, ending the
    /// stem or followed by `_DATE`.
    public static func sha256Prefix(inFileName name: String) -> String? {
        var stem = Substring(name)
        if let dot = stem.lastIndex(of: ".") { stem = stem[..<dot] }
        guard let dash = stem.lastIndex(of: "-") else { return nil }
        var tag = stem[stem.index(after: dash)...]
        if let underscore = tag.firstIndex(of: "_") {
            guard tag[tag.index(after: underscore)...].allSatisfy(\.isNumber) else { return nil }
            tag = tag[..<underscore]
        }
        guard tag.count >= 8, tag.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) else { return nil }
        return String(tag)
    }
}

/// The registry: official checkpoints under the URLs their model zoos publish, and our own
/// synthetic-world models shipped in `Models/`. One table, compiled in, so an installed binary
/// needs no data file to know names.
public enum ModelRegistry {
    private static func zoo(_ url: String) -> ModelEntry.Source { .download(URL(string: url)!) }

    /// Every entry, in the order `posewarper models` lists them.
    public static let all: [ModelEntry] = [
        // mmpose 0.x model zoo (download.openmmlab.com/mmpose/top_down/…).
        ModelEntry(name: "hrnet-w32-coco-256x192", family: "HRNet-W32 top-down (mmpose)", task: .pose,
                   detail: "COCO-17, 256x192",
                   source: zoo("https://download.openmmlab.com/mmpose/top_down/hrnet/hrnet_w32_coco_256x192-c78dce93_20200708.pth"),
                   pipeline: "Pipelines/hrnet-w32-coco-256x192.yml"),
        ModelEntry(name: "posewarper-hrnet-w48-posetrack18-384x288", family: "PoseWarper on HRNet-W48 (mmpose, stage 2)",
                   task: .videoPose, detail: "PoseTrack18, 384x288",
                   source: zoo("https://download.openmmlab.com/mmpose/top_down/posewarper/hrnet_w48_posetrack18_384x288_posewarper_stage2-4abf88db_20211130.pth"),
                   pipeline: "Pipelines/posewarper-hrnet-w48-posetrack18-384x288.yml"),
        // Our own, trained on the synthetic video world (Models/README.md).
        ModelEntry(name: "hrnet-w16-synth-128x96", family: "HRNet-W16 top-down (this repository)", task: .pose,
                   detail: "synthetic world, COCO-17, 128x96", source: .bundled("Models/hrnet_w16_synth_128x96.pth"),
                   pipeline: "Models/hrnet-w16-synth-128x96.yml"),
        ModelEntry(name: "posewarper-hrnet-w16-synth-128x96", family: "PoseWarper on HRNet-W16 (this repository)",
                   task: .videoPose, detail: "synthetic world, COCO-17, 128x96",
                   source: .bundled("Models/posewarper_hrnet_w16_synth_128x96.pth"),
                   pipeline: "Models/posewarper-hrnet-w16-synth-128x96.yml"),
        ModelEntry(name: "yolox-nano-synth-person", family: "YOLOX-nano person detector (this repository)", task: .detection,
                   detail: "synthetic world, persons, 320", source: .bundled("Models/yolox_nano_synth_person.pth"),
                   pipeline: "Models/yolox-nano-synth-person.yml"),
        // YOLOX, Megvii's release 0.1.1rc0 (github.com/Megvii-BaseDetection/YOLOX): no hash in the names.
        megvii("nano", "416"), megvii("tiny", "416"), megvii("s", "640"), megvii("m", "640"), megvii("l", "640"), megvii("x", "640"),
        // YOLOX, mmdetection's port (mmdet 2.x model zoo, configs/yolox).
        mmdetYOLOX("tiny", "20211124_171234-b4047906", "416"), mmdetYOLOX("s", "20211121_095711-4592a793", "640"),
        mmdetYOLOX("l", "20211126_140236-d3bd2b23", "640"), mmdetYOLOX("x", "20211126_140254-1ef88d67", "640"),
        // RTMDet, mmdetection 3.x model zoo (configs/rtmdet).
        rtmdet("tiny", "20220902_112414-78e30dcc"), rtmdet("s", "20220905_161602-387a891e"), rtmdet("m", "20220719_112220-229f527c"),
        rtmdet("l", "20220719_112030-5a0be7c4"), rtmdet("x", "20220715_230555-cc79b9ae"),
        // The person-only RTMDet that mmpose pairs with its pose models (projects/rtmpose).
        ModelEntry(name: "rtmdet-nano-person", family: "RTMDet-nano (mmpose RTMPose project)", task: .detection,
                   detail: "COCO + Objects365 persons, 320",
                   source: zoo("https://download.openmmlab.com/mmpose/v1/projects/rtmpose/rtmdet_nano_8xb32-100e_coco-obj365-person-05d8511e.pth")),
        ModelEntry(name: "rtmdet-m-person", family: "RTMDet-m (mmpose RTMPose project)", task: .detection,
                   detail: "COCO + Objects365 persons, 640",
                   source: zoo("https://download.openmmlab.com/mmpose/v1/projects/rtmpose/rtmdet_m_8xb32-100e_coco-obj365-person-235e8209.pth")),
    ]

    private static func megvii(_ size: String, _ input: String) -> ModelEntry {
        ModelEntry(name: "yolox-\(size)", family: "YOLOX-\(size) (Megvii)", task: .detection, detail: "COCO, \(input)",
                   source: zoo("https://github.com/Megvii-BaseDetection/YOLOX/releases/download/0.1.1rc0/yolox_\(size).pth"))
    }

    private static func mmdetYOLOX(_ size: String, _ stamp: String, _ input: String) -> ModelEntry {
        let config = "yolox_\(size)_8x8_300e_coco"
        return ModelEntry(name: "yolox-\(size)-mmdet", family: "YOLOX-\(size) (mmdetection)", task: .detection, detail: "COCO, \(input)",
                          source: zoo("https://download.openmmlab.com/mmdetection/v2.0/yolox/\(config)/\(config)_\(stamp).pth"))
    }

    private static func rtmdet(_ size: String, _ stamp: String) -> ModelEntry {
        let config = "rtmdet_\(size)_8xb32-300e_coco"
        return ModelEntry(name: "rtmdet-\(size)", family: "RTMDet-\(size) (mmdetection 3.x)", task: .detection, detail: "COCO, 640",
                          source: zoo("https://download.openmmlab.com/mmdetection/v3.0/rtmdet/\(config)/\(config)_\(stamp).pth"))
    }

    /// The entry called `name`.
    public static func named(_ name: String) -> ModelEntry? { all.first { $0.name == name } }

    /// The names of the entries for `tasks`, comma-separated (for error messages).
    public static func names(for tasks: Set<ModelEntry.Task>) -> String {
        all.filter { tasks.contains($0.task) }.map(\.name).joined(separator: ", ")
    }
}
