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
