/// A rational number as FFmpeg uses it for time bases and frame rates.
public struct Rational: Sendable, Equatable, Codable, CustomStringConvertible {
    public var num: Int32
    public var den: Int32
    public init(_ num: Int32, _ den: Int32) { self.num = num; self.den = den }
    /// The value as a Double (0 when the denominator is 0).
    public var value: Double { den == 0 ? 0 : Double(num) / Double(den) }
    public var description: String { "\(num)/\(den)" }
}

/// What a video source is: the facts `probe` prints and the writer copies timing from.
public struct VideoInfo: Sendable, Equatable {
    /// The file, folder, pattern or URL it was opened from.
    public var source: String
    /// Container (demuxer) name, e.g. "mov,mp4,m4a,3gp,3g2,mj2"; "image-sequence" for folders and patterns.
    public var container: String
    /// Frame size as delivered (display orientation: after rotation), in stored pixels.
    public var width: Int
    public var height: Int
    /// Frame size as stored in the stream (before rotation).
    public var storedWidth: Int
    public var storedHeight: Int
    /// Clockwise rotation applied to the stored pixels for display (0, 90, 180 or 270).
    public var rotation: Int
    /// Sample (pixel) aspect ratio reported by the stream; frames are NOT resampled for it (1/1 when unknown).
    public var sampleAspectRatio: Rational
    /// Average frame rate (frames / duration), the container's `avg_frame_rate`.
    public var averageFPS: Double
    /// The stream's base ("real") frame rate, `r_frame_rate`: the lowest rate that represents all timestamps.
    public var realFPS: Double
    /// Number of frames when the container knows it (nil for live streams and many raw formats).
    public var frameCount: Int?
    /// Duration in seconds when known.
    public var duration: Double?
    /// Video codec name, e.g. "h264".
    public var videoCodec: String
    /// First audio stream's codec name, when there is audio.
    public var audioCodec: String?
    /// Whether the source has at least one audio stream.
    public var hasAudio: Bool
    /// Number of audio streams.
    public var audioStreamCount: Int
    /// Time base of the video stream's pts.
    public var timeBase: Rational
    /// First presentation timestamp of the video stream, in `timeBase` units (0 when unknown).
    public var startPTS: Int64
    /// Average bit rate in bits per second when known.
    public var bitRate: Int?
    /// The source can be read again from the start (a file, an HTTP resource); false for pipes,
    /// stdin and live network streams, whose audio cannot be copied by reopening them.
    public var canReopen = true

    public init(source: String, container: String, width: Int, height: Int, storedWidth: Int? = nil, storedHeight: Int? = nil,
                rotation: Int = 0, sampleAspectRatio: Rational = Rational(1, 1), averageFPS: Double, realFPS: Double? = nil,
                frameCount: Int? = nil, duration: Double? = nil, videoCodec: String, audioCodec: String? = nil,
                audioStreamCount: Int = 0, timeBase: Rational, startPTS: Int64 = 0, bitRate: Int? = nil) {
        self.source = source
        self.container = container
        self.width = width
        self.height = height
        self.storedWidth = storedWidth ?? width
        self.storedHeight = storedHeight ?? height
        self.rotation = rotation
        self.sampleAspectRatio = sampleAspectRatio
        self.averageFPS = averageFPS
        self.realFPS = realFPS ?? averageFPS
        self.frameCount = frameCount
        self.duration = duration
        self.videoCodec = videoCodec
        self.audioCodec = audioCodec
        self.hasAudio = audioStreamCount > 0
        self.audioStreamCount = audioStreamCount
        self.timeBase = timeBase
        self.startPTS = startPTS
        self.bitRate = bitRate
    }

    /// Whether timestamps follow a constant frame rate (average and base rates agree), so a frame's
    /// index follows from its pts and seeking by index is exact.
    public var isConstantFrameRate: Bool {
        averageFPS > 0 && realFPS > 0 && abs(averageFPS - realFPS) <= 1e-3 * realFPS
    }
}
