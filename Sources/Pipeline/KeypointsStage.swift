import Keypoints

/// The keypoint-decoding stage: each person's heatmaps back to keypoints in image pixels, with the
/// person's score (the mean keypoint score). Track ids come later.
public final class KeypointsStage: PipelineStage {
    public let name = "keypoint decoding"
    public let decoder: KeypointDecodingStage

    public init(_ decoder: KeypointDecodingStage) { self.decoder = decoder }

    public func process(_ frame: PipelineFrame) throws -> [PipelineFrame] {
        var frame = frame
        guard let heatmaps = frame.heatmaps else { frame.persons = []; return [frame] }
        let keypoints = decoder.decode(heatmaps, transforms: frame.crops)
        frame.persons = zip(frame.boxes, keypoints).map { box, kps in
            let mean = kps.isEmpty ? 0 : kps.map { $0[2] }.reduce(0, +) / Double(kps.count)
            return PersonPose(trackID: nil, bbox: box.xywh, bboxScore: box.score, score: mean, keypoints: kps)
        }
        frame.heatmaps = nil
        return [frame]
    }
}
