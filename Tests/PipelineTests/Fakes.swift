import Foundation
import Keypoints
import Tensors
import Video
@testable import Pipeline

/// Frames made in memory: frame i is filled with the grey level `i % 256`, so a crop's content says
/// which frame it came from.
final class SyntheticSource: FrameSource {
    let info: VideoInfo
    let count: Int
    private var cursor = 0
    private let lock = NSLock()
    private(set) var produced = 0

    init(count: Int, width: Int = 64, height: Int = 48) {
        self.count = count
        info = VideoInfo(source: "synthetic", container: "memory", width: width, height: height, averageFPS: 25,
                         frameCount: count, videoCodec: "raw", timeBase: Rational(1, 25))
    }

    func next() throws -> VideoFrame? {
        guard cursor < count else { return nil }
        defer { cursor += 1 }
        lock.lock(); produced += 1; lock.unlock()
        let v = UInt8(cursor % 256)
        return VideoFrame(index: cursor, time: Double(cursor) / 25, pts: Int64(cursor), width: info.width, height: info.height,
                          fill: [v, v, v])
    }
}

/// Crop: the grey level of the frame, in every element; transform: the box centre.
final class GreyCrop: CropStage {
    let inputWidth = 4, inputHeight = 4
    func transform(for box: PersonBox) -> CropTransform {
        CropTransform(center: (Float(box.x + box.width / 2), Float(box.y + box.height / 2)),
                      scale: (Float(box.width / 200), Float(box.height / 200)))
    }
    func crop(_ frame: VideoFrame, _ transform: CropTransform, into: UnsafeMutablePointer<Float>) {
        for i in 0..<(3 * inputWidth * inputHeight) { into[i] = Float(frame.rgb[0]) }
    }
}

/// Encoding: the crop's grey level; "heatmaps": every offset's grey level side by side, so the decoded
/// keypoints list exactly which frames the window used.
final class RecordingNetwork: PoseNetwork {
    private(set) var encodeCalls = 0
    var delay: TimeInterval = 0
    func encode(_ crops: Tensor) -> Tensor {
        encodeCalls += crops.shape[0]
        if delay > 0 { Thread.sleep(forTimeInterval: delay) }
        let per = crops.count / crops.shape[0]
        return Tensor(shape: [crops.shape[0], 1], storage: (0..<crops.shape[0]).map { crops.storage[$0 * per] })
    }
    func heatmaps(from encodings: [Tensor]) -> Tensor {
        let p = encodings[0].shape[0]
        var out = Tensor(shape: [p, 1, 1, encodings.count])
        for (j, e) in encodings.enumerated() { for i in 0..<p { out[i, 0, 0, j] = e.storage[i] } }
        return out
    }
}

/// Keypoint j = (grey level of support frame j, box centre y, 0.9).
final class ListingDecoder: KeypointDecodingStage {
    func decode(_ heatmaps: Tensor, transforms: [CropTransform]) -> [[[Double]]] {
        transforms.enumerated().map { i, t in
            (0..<heatmaps.shape[3]).map { j in [Double(heatmaps[i, 0, 0, j]), Double(t.center.y), 0.9] }
        }
    }
}

/// Two boxes per frame moving right.
final class MovingBoxes: PersonSource {
    func boxes(in frame: VideoFrame) throws -> [PersonBox] {
        let x = Double(frame.index)
        return [PersonBox(x: x, y: 0, width: 10, height: 20, score: 0.9), PersonBox(x: x + 30, y: 10, width: 10, height: 20, score: 0.8)]
    }
}

func fakeJob(offsets: [Int] = [0, -2, -1, 1, 2], smoothing: SmoothingMethod? = nil) -> (PoseJob, RecordingNetwork) {
    var config = PipelineConfig.poseWarperPoseTrack18
    config.smoothing.method = smoothing
    config.temporal.frameOffsets = offsets
    config.temporal.frameWeights = offsets.map { _ in 1 }
    let network = RecordingNetwork()
    return (PoseJob(config: config, crops: GreyCrop(), network: network, decoder: ListingDecoder()), network)
}

func temporaryPath(_ name: String) -> String {
    let dir = NSTemporaryDirectory() + "pipeline-tests-\(ProcessInfo.processInfo.processIdentifier)"
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir + "/" + name
}

func describe(_ source: FrameSource, schema: KeypointSchema = .posetrack18, input: String = "000007_test.mp4") -> RunDescription {
    RunDescription(schema: schema, input: input, width: source.info.width, height: source.info.height, fps: 25,
                   frameCount: source.info.frameCount, source: source.info)
}
