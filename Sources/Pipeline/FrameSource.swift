import Foundation
import Video

/// The decode stage: frames in presentation order with consecutive indices.
public protocol FrameSource: AnyObject {
    var info: VideoInfo { get }
    /// The next frame, or nil at the end.
    func next() throws -> VideoFrame?
}

extension VideoReader: FrameSource {}

/// File names of an image folder's or printf pattern's frames in the order the Video module decodes
/// them, for mapping boxes files by image name.
func imageFolderFrameNames(_ source: String) -> [String]? {
    imageSequenceFiles(source)?.map { ($0 as NSString).lastPathComponent }
}

/// A reader whose first frame is decoded before any output is touched: when read or decode errors
/// leave the input without a single frame (an MP4 read through a pipe with its index at the end,
/// an unreadable stream), that is a bad input and existing files stay as they were, rather than a
/// run that succeeds with empty outputs. Errors after the first frame stay warnings (`stopReason`).
final class FirstFrameChecked: FrameSource {
    let reader: VideoReader
    private var first: VideoFrame?

    init(_ reader: VideoReader) throws {
        self.reader = reader
        first = try reader.next()
        if first == nil, let reason = reader.stopReason {
            let pipedMP4 = !reader.info.canReopen && reader.info.container.contains("mp4")
            throw PipelineError.badInput("\(reader.info.source): no frame could be decoded: \(reason)"
                + (pipedMP4 ? " (an MP4 read from a pipe needs its index first: ffmpeg -i IN -c copy -movflags +faststart OUT.mp4)" : ""))
        }
    }

    var info: VideoInfo { reader.info }

    func next() throws -> VideoFrame? {
        if let frame = first {
            first = nil
            return frame
        }
        return try reader.next()
    }
}
