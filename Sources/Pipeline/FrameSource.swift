import Foundation
import Video

/// The decode stage: frames in presentation order with consecutive indices.
public protocol FrameSource: AnyObject {
    var info: VideoInfo { get }
    /// The next frame, or nil at the end.
    func next() throws -> VideoFrame?
}

extension VideoReader: FrameSource {}

/// File names of an image folder's frames in the order the Video module decodes them (sorted by
/// their numeric part, as PoseTrack's 000000.jpg …), for mapping boxes files by image name.
func imageFolderFrameNames(_ folder: String) -> [String]? {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue,
          let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return nil }
    let images = names.filter { ["jpg", "jpeg", "png", "bmp", "tif", "tiff", "webp"].contains(($0 as NSString).pathExtension.lowercased()) }
    func number(_ name: String) -> Int? {
        let digits = (name as NSString).deletingPathExtension.reversed().prefix { $0.isASCII && $0.isNumber }
        return digits.isEmpty ? nil : Int(String(digits.reversed()).suffix(18))
    }
    return images.sorted { a, b in
        switch (number(a), number(b)) {
        case let (x?, y?) where x != y: return x < y
        default: return a < b
        }
    }
}
