import CFFmpeg
import Foundation

/// A start or end of a frame range: a 0-based frame index or a time in seconds.
public enum FramePosition: Sendable, Equatable {
    case frame(Int)
    case time(Double)
}

/// How a VideoReader decodes.
public struct VideoReaderOptions: Sendable {
    /// Decoder threads; 0 lets libavcodec use one per core.
    public var threads: Int = 0
    /// Frame rate given to image folders and patterns, which carry no timing (FFmpeg's image2 default).
    public var imageSequenceFPS: Double = 25
    /// Keep the audio packets of a source that cannot be read twice (`VideoReader.audioPackets`),
    /// for an annotated video to copy.
    public var keepAudio = false
    public init(threads: Int = 0, imageSequenceFPS: Double = 25, keepAudio: Bool = false) {
        self.threads = threads
        self.imageSequenceFPS = imageSequenceFPS
        self.keepAudio = keepAudio
    }
}

/// Decodes a video file, URL, image folder or printf pattern into RGB frames in presentation order.
///
/// - Frames come at their stored pixel size, rotated by the display matrix (`info.rotation`); the
///   sample aspect ratio is reported (`info.sampleAspectRatio`) but pixels are not resampled, so
///   keypoints stay in stored-pixel coordinates of the displayed orientation.
/// - A range `start..<end` (frame index or seconds) seeks to the key frame before `start`, decodes
///   forward and drops earlier frames. Indices stay those of the whole video: after a seek they follow
///   from pts, which is exact for constant-frame-rate streams; variable-rate streams are decoded from
///   the beginning instead so indices are counted.
/// - A damaged or truncated input is decoded as far as possible; then `next()` returns nil and
///   `stopReason` says why it stopped early.
public final class VideoReader {
    public let info: VideoInfo
    /// The path or URL this reader was opened with.
    public let source: String
    /// The input's audio, when it has any and it can be remuxed by reopening the input (a file or URL,
    /// not an image sequence, not a pipe or live stream).
    public var audioSource: String? { info.hasAudio && info.canReopen ? source : nil }
    /// The audio packets of a source that cannot be reopened, kept while decoding (`options.keepAudio`).
    public var audioPackets: AudioPackets? {
        if case let .stream(decoder) = backend { return decoder.audioPackets }
        return nil
    }
    public let start: FramePosition?
    public let end: FramePosition?
    /// Frames returned so far.
    public private(set) var framesDelivered = 0
    /// Set when decoding ended before the end of the source: a read error, undecodable packets, or
    /// fewer frames than the container lists (a truncated file).
    public private(set) var stopReason: String?

    private enum Backend {
        case stream(StreamDecoder)
        case images([String])
    }
    private var backend: Backend
    private let options: VideoReaderOptions
    private let converter = RGBConverter()
    private var countedIndex = 0          // index of the next decoded frame when counting from the start
    private var indexFromPTS = false      // true after a seek (constant frame rate only)
    private var seekTargetIndex: Int?     // the first wanted index after a seek, to detect a seek that overshot
    private var lastPTS: Int64?
    private var lastIndex = -1
    private var imageCursor = 0
    private var done = false

    /// Opens `source`: a file, a folder of images, a printf pattern such as `frames/%06d.jpg`, or a URL.
    /// `start` is inclusive, `end` exclusive.
    public init(_ source: String, start: FramePosition? = nil, end: FramePosition? = nil,
                options: VideoReaderOptions = .init()) throws {
        // "-" is stdin, as FFmpeg's "pipe:0".
        let source = source == "-" ? "pipe:0" : source
        self.source = source
        self.start = start
        self.end = end
        self.options = options
        let isURL = VideoReader.isURL(source)
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: source, isDirectory: &isDirectory)
        if exists && isDirectory.boolValue {
            let files = try ImageSequence.files(inFolder: source)
            backend = .images(files)
            info = try VideoReader.imageSequenceInfo(source: source, files: files, options: options)
        } else if !exists && !isURL && ImageSequence.isPattern(source) {
            let files = try ImageSequence.files(matching: source)
            backend = .images(files)
            info = try VideoReader.imageSequenceInfo(source: source, files: files, options: options)
        } else {
            guard exists || isURL else { throw VideoError.missingFile(source) }
            let decoder = try StreamDecoder(path: source, threads: options.threads, keepAudio: options.keepAudio)
            backend = .stream(decoder)
            info = VideoReader.streamInfo(source: source, decoder: decoder)
        }
        try validateRange()
        try seekToStart()
    }

    /// True for a URL libavformat reads through a protocol: `scheme://…`, or `file:x.mp4`, `pipe:0` and
    /// any other `protocol:` prefix that names one of libavformat's protocols.
    public static func isURL(_ source: String) -> Bool {
        if source.contains("://") { return true }
        guard let colon = source.firstIndex(of: ":"), colon != source.startIndex else { return false }
        let scheme = source[..<colon]
        guard scheme.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "+-.".contains($0)) }) else { return false }
        _ = StreamDecoder.setUp
        guard let name = avio_find_protocol_name(source) else { return false }
        return String(cString: name) == scheme.lowercased()
    }

    /// True for stdin and pipes (`-`, `pipe:N`), which can be read only once.
    static func isPipe(_ source: String) -> Bool { source == "-" || source.hasPrefix("pipe:") }

    private func validateRange() throws {
        func check(_ p: FramePosition?) throws {
            switch p {
            case let .frame(i)? where i < 0: throw VideoError.invalidRange(source, reason: "frame \(i) is negative")
            case let .time(t)? where !(t >= 0) || !t.isFinite: throw VideoError.invalidRange(source, reason: "time \(t) is not a time ≥ 0")
            default: break
            }
        }
        try check(start)
        try check(end)
        if case let .frame(s)? = start, let n = info.frameCount, s >= n {
            throw VideoError.invalidRange(source, reason: "start frame \(s) is past the last frame (\(n - 1))")
        }
        if case let .frame(s)? = start, case let .frame(e)? = end, e <= s {
            throw VideoError.invalidRange(source, reason: "end frame \(e) is not after start frame \(s)")
        }
        if case let .time(s)? = start, case let .time(e)? = end, e <= s {
            throw VideoError.invalidRange(source, reason: "end time \(e) s is not after start time \(s) s")
        }
    }

    private var fps: Double { info.realFPS > 0 ? info.realFPS : (info.averageFPS > 0 ? info.averageFPS : 25) }
    private var timeBase: Double { info.timeBase.value }

    private func seekToStart() throws {
        let startTime: Double
        switch start {
        case nil: return
        case let .frame(i)?: startTime = Double(i) / fps
        case let .time(t)?: startTime = t
        }
        switch backend {
        case let .images(files):
            imageCursor = min(files.count, startIndexForImages())
        case let .stream(decoder):
            // Seeking by pts gives exact indices only when every frame sits on the frame-rate grid.
            guard startTime > 0, info.isConstantFrameRate, timeBase > 0 else { return }
            let target = info.startPTS + Int64((startTime / timeBase).rounded(.down))
            if decoder.seek(toPTS: target) {
                indexFromPTS = true
                seekTargetIndex = Int((startTime * fps - 1e-6).rounded(.up))
            } else if info.canReopen {
                try reopenFromBeginning()
            }
            // A source read once (stdin, a live stream) is decoded from where it is, counting frames.
        }
    }

    private func startIndexForImages() -> Int {
        switch start {
        case nil: return 0
        case let .frame(i)?: return i
        case let .time(t)?: return Int((t * fps - 1e-6).rounded(.up))
        }
    }

    /// Starts again at the first frame, counting indices (the fallback when a seek is not exact).
    private func reopenFromBeginning() throws {
        backend = .stream(try StreamDecoder(path: source, threads: options.threads))
        indexFromPTS = false
        seekTargetIndex = nil
        countedIndex = 0
        lastPTS = nil
    }

    /// The next frame of the range, or nil when it is exhausted (see `stopReason`).
    public func next() throws -> VideoFrame? {
        while !done {
            guard let candidate = try decodeNext() else { done = true; finishStopReason(); return nil }
            if precedesStart(candidate) { continue }
            if reachedEnd(candidate) { done = true; return nil }
            let frame = try candidate.frame ?? convertPending(candidate)
            framesDelivered += 1
            return frame
        }
        return nil
    }

    /// Decodes the rest of the range without converting to RGB and returns how many frames it holds.
    public func countRemaining() throws -> Int {
        var n = 0
        while !done {
            guard let candidate = try decodeNext() else { done = true; finishStopReason(); break }
            if precedesStart(candidate) { continue }
            if reachedEnd(candidate) { done = true; break }
            n += 1
            framesDelivered += 1
        }
        return n
    }
    private var pendingPicture: UnsafeMutablePointer<AVFrame>?

    /// A decoded frame's position; `frame` is set when its pixels are already converted (images),
    /// else they wait in `pendingPicture` until the frame is known to be kept.
    private struct Candidate {
        var index: Int
        var time: Double
        var pts: Int64
        var frame: VideoFrame?
    }

    private func precedesStart(_ f: Candidate) -> Bool {
        switch start {
        case nil: return false
        case let .frame(i)?: return f.index < i
        case let .time(t)?: return f.time < t - 1e-6
        }
    }

    private func reachedEnd(_ f: Candidate) -> Bool {
        switch end {
        case nil: return false
        case let .frame(i)?: return f.index >= i
        case let .time(t)?: return f.time >= t - 1e-6
        }
    }

    /// The next decoded frame's timing; its pixels are converted only when it is kept (`convertPending`).
    private func decodeNext() throws -> Candidate? {
        switch backend {
        case let .images(files):
            guard imageCursor < files.count else { return nil }
            let i = imageCursor
            imageCursor += 1
            let decoder: StreamDecoder
            do { decoder = try StreamDecoder(path: files[i], threads: 1, singleImage: true) } catch {
                stopReason = "\(error)"
                return nil
            }
            guard let picture = decoder.receive() else {
                stopReason = "\(files[i]): no picture could be decoded" + (decoder.lastDecodeError.map { " (\($0))" } ?? "")
                return nil
            }
            let converted = try convert(picture, path: files[i])
            lastIndex = i
            let frame = VideoFrame(index: i, time: Double(i) / fps, pts: Int64(i), width: converted.width, height: converted.height, rgb: converted.rgb)
            return Candidate(index: i, time: frame.time, pts: frame.pts, frame: frame)
        case let .stream(decoder):
            guard let picture = decoder.receive() else { return nil }
            var pts = picture.pointee.best_effort_timestamp
            if pts == pw_av_nopts_value() {
                // No timestamp: one frame after the previous one.
                let step = Int64((1 / fps / max(timeBase, 1e-12)).rounded())
                pts = (lastPTS ?? info.startPTS - step) + max(step, 1)
            }
            lastPTS = pts
            let time = Double(pts - info.startPTS) * timeBase
            let index: Int
            if indexFromPTS {
                index = Int((time * fps).rounded())
                if let target = seekTargetIndex {
                    seekTargetIndex = nil
                    if index > target {
                        // The seek landed after the start (an inexact demuxer): decode from the beginning.
                        try reopenFromBeginning()
                        return try decodeNext()
                    }
                }
            } else {
                index = countedIndex
                countedIndex += 1
            }
            lastIndex = index
            pendingPicture = picture
            return Candidate(index: index, time: time, pts: pts, frame: nil)
        }
    }

    private func convertPending(_ f: Candidate) throws -> VideoFrame {
        guard let picture = pendingPicture else { throw VideoError.decodeFailed(source, reason: "internal: no picture for frame \(f.index)") }
        pendingPicture = nil
        let c = try convert(picture, path: source)
        return VideoFrame(index: f.index, time: f.time, pts: f.pts, width: c.width, height: c.height, rgb: c.rgb)
    }

    private func convert(_ picture: UnsafeMutablePointer<AVFrame>, path: String) throws -> (width: Int, height: Int, rgb: [UInt8]) {
        do { return try converter.convert(picture, rotation: info.rotation) } catch let VideoError.decodeFailed(_, reason) {
            throw VideoError.decodeFailed(path, reason: reason)
        }
    }

    private func finishStopReason() {
        guard case let .stream(decoder) = backend else { return }
        var reasons: [String] = []
        if let e = decoder.readError { reasons.append((lastIndex < 0 ? "read error before the first frame" : "read error after frame \(lastIndex)") + ": \(e)") }
        if decoder.decodeErrors > 0 {
            reasons.append("\(decoder.decodeErrors) packet(s) could not be decoded (\(decoder.lastDecodeError ?? "unknown error"))")
        }
        if end == nil, let n = info.frameCount, lastIndex + 1 < n {
            // Without read/decode errors a shortfall can also be an edit list hiding frames: say less.
            reasons.append(reasons.isEmpty
                ? "only \(lastIndex + 1) of the \(n) frames the container lists were decoded"
                : "the stream ended after \(lastIndex + 1) of the \(n) frames the container lists (the file is probably truncated)")
        }
        if !reasons.isEmpty { stopReason = reasons.joined(separator: "; ") }
    }
}
