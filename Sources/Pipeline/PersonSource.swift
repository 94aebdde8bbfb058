import Video

/// The person-boxes stage: the boxes to crop in one frame.
public protocol PersonSource: AnyObject {
    func boxes(in frame: VideoFrame) throws -> [PersonBox]
}

/// A person detector running on the frames (the network comes with its own issue; any type
/// conforming to this protocol can be passed to `PoseJob.run` as `.custom`).
public protocol PersonDetector: PersonSource {}

/// One box covering the whole frame, for single-person clips.
public final class WholeFramePersons: PersonSource {
    public init() {}
    public func boxes(in frame: VideoFrame) throws -> [PersonBox] {
        [PersonBox(x: 0, y: 0, width: Double(frame.width), height: Double(frame.height), score: nil)]
    }
}

/// Boxes read from a boxes file, by frame index; frames without entries have no persons.
public final class BoxesFilePersons: PersonSource {
    public let file: BoxesFile
    public init(_ file: BoxesFile) { self.file = file }
    public func boxes(in frame: VideoFrame) throws -> [PersonBox] { file.boxes[frame.index] ?? [] }
}
