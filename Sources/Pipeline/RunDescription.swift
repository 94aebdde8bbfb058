import Foundation
import Keypoints
import Video

/// What every output needs to know about a run before its first frame.
public struct RunDescription: Sendable {
    /// The keypoint slots of the model.
    public var schema: KeypointSchema
    /// The input video or image folder.
    public var input: String
    /// Frame size (after rotation) and rate.
    public var width: Int
    public var height: Int
    public var fps: Double
    /// Frame count when the source knows it.
    public var frameCount: Int?
    /// Image id of every frame in COCO and PoseTrack outputs.
    public var imageIDs: ImageIDs
    /// File names of an image folder's frames, in order (nil for videos).
    public var frameNames: [String]?
    /// The decoded source's facts (timing and audio for the annotated video), when it has them.
    public var source: VideoInfo?
    /// The PoseTrack video id when known from a boxes file; else taken from the input's name.
    public var poseTrackVideo: Int?
    /// The audio of a source read once (stdin, live stream), kept while decoding for the annotated video.
    public var audioPackets: AudioPackets?
    /// The segment this run covers (`--segment i/n`), written into the keypoint stream's header.
    public var segment: KeypointStreamHeader.Segment?

    /// Image ids in the COCO and PoseTrack outputs.
    public enum ImageIDs: Sendable, Equatable {
        /// The 0-based frame index.
        case frameIndex
        /// PoseTrack's "1" + 6-digit video id + 4-digit frame index.
        case poseTrack(video: Int)

        public func id(frame: Int) -> Int {
            switch self {
            case .frameIndex: return frame
            case let .poseTrack(video): return BoxesFile.poseTrackFrameID(video: video, frame: frame)
            }
        }
    }

    public init(schema: KeypointSchema, input: String, width: Int, height: Int, fps: Double, frameCount: Int?,
                imageIDs: ImageIDs = .frameIndex, frameNames: [String]? = nil, source: VideoInfo? = nil) {
        self.schema = schema
        self.input = input
        self.width = width
        self.height = height
        self.fps = fps
        self.frameCount = frameCount
        self.imageIDs = imageIDs
        self.frameNames = frameNames
        self.source = source
    }

    /// The input's name without folder and extension ("000001_mpiinew_test").
    public var inputStem: String {
        var name = (input as NSString).lastPathComponent
        if name.isEmpty { name = ((input as NSString).deletingLastPathComponent as NSString).lastPathComponent }
        return (name as NSString).deletingPathExtension
    }

    /// The PoseTrack video id: from the boxes file, else the number the input's name starts with, else 0.
    public var poseTrackVideoID: Int { poseTrackVideo ?? BoxesFile.leadingNumber(of: inputStem) ?? 0 }
}
