import CFFmpeg
import Failures

/// Everything that can go wrong opening, decoding or writing video; each message names the file.
public enum VideoError: UserFacingError, Equatable {
    case missingFile(String)
    case notMedia(String, reason: String)
    case noVideoStream(String)
    case unsupportedCodec(String, codec: String)
    case emptySequence(String)
    case invalidRange(String, reason: String)
    case decodeFailed(String, reason: String)
    case unwritable(String, reason: String)
    case unsupportedContainer(String)
    case encoderUnavailable(String, reason: String)
    case encodeFailed(String, reason: String)
    case frameMismatch(String, reason: String)
    case interrupted(String)

    /// True when the problem is the input (exit 1 in the CLI); false for output and encoder problems.
    public var isInputProblem: Bool {
        switch self {
        case .missingFile, .notMedia, .noVideoStream, .unsupportedCodec, .emptySequence, .invalidRange, .decodeFailed: return true
        default: return false
        }
    }

    public var description: String {
        switch self {
        case let .missingFile(p): return "\(p): no such file or directory"
        case let .notMedia(p, r): return "\(p): not a media file FFmpeg can read (\(r))"
        case let .noVideoStream(p): return "\(p): has no video stream"
        case let .unsupportedCodec(p, c): return "\(p): video codec '\(c)' is not supported by this FFmpeg build"
        case let .emptySequence(p): return "\(p): no image files found"
        case let .invalidRange(p, r): return "\(p): invalid frame range: \(r)"
        case let .decodeFailed(p, r): return "\(p): decoding failed: \(r)"
        case let .unwritable(p, r): return "\(p): cannot write output: \(r)"
        case let .unsupportedContainer(p): return "\(p): cannot choose a container from the extension (use .mp4, .mkv or .mov)"
        case let .encoderUnavailable(p, r): return "\(p): no usable video encoder: \(r)"
        case let .encodeFailed(p, r): return "\(p): encoding failed: \(r)"
        case let .frameMismatch(p, r): return "\(p): \(r)"
        case let .interrupted(p): return "\(p): interrupted; the output was not written"
        }
    }
}

/// FFmpeg's text for an error code.
func ffErrorText(_ code: Int32) -> String {
    var buffer = [CChar](repeating: 0, count: 256)
    if av_strerror(code, &buffer, buffer.count) < 0 { return "error \(code)" }
    return String(cString: buffer)
}
