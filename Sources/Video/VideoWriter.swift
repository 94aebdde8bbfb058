import CFFmpeg
import Failures
import Foundation

/// Encoder choice for VideoWriter.
public enum VideoEncoder: String, Sendable {
    /// libx264 when this FFmpeg has it, else MPEG-4 Part 2.
    case auto
    case h264
    case mpeg4
}

/// Encoding settings.
public struct VideoWriterOptions: Sendable {
    public var encoder: VideoEncoder = .auto
    /// libx264 constant rate factor (0 = lossless luma, 23 = x264's default, 51 = worst).
    public var crf: Double = 20
    /// libx264 preset (ultrafast … veryslow).
    public var preset: String = "medium"
    /// MPEG-4 Part 2 fixed quantiser (1 best … 31 worst), used when libx264 is absent.
    public var mpeg4Quantizer: Int = 3
    /// Encoder threads; 0 lets libavcodec choose.
    public var threads: Int = 0
    /// Copy the source's audio streams (unchanged packets) when the source has any.
    public var copyAudio: Bool = true
    /// Maximum frames between key frames (nil: the encoder's default, 250 for libx264, 12 for MPEG-4).
    public var keyframeInterval: Int? = nil
    public init(encoder: VideoEncoder = .auto, crf: Double = 20, preset: String = "medium", mpeg4Quantizer: Int = 3,
                threads: Int = 0, copyAudio: Bool = true, keyframeInterval: Int? = nil) {
        self.keyframeInterval = keyframeInterval
        self.encoder = encoder
        self.crf = crf
        self.preset = preset
        self.mpeg4Quantizer = mpeg4Quantizer
        self.threads = threads
        self.copyAudio = copyAudio
    }
}

/// Encodes RGB frames to H.264 (libx264, yuv420p; MPEG-4 Part 2 without it) in mp4, mkv or mov,
/// keeping the source's time base and pts (variable frame rate survives) and copying its audio.
///
/// - Odd sizes: the picture is padded to even width/height by repeating the last column/row, so
///   every input pixel (and keypoint coordinate) is kept; the output is then 1 px wider/taller.
/// - Finalization: frames go to a hidden temporary file next to `path`; `finish()` completes it
///   (trailer, `+faststart` for mp4/mov) and renames it onto `path`. `abort()`, an error in
///   `finish()`, or dropping an unfinished writer removes the temporary file: `path` is never left
///   half-written, and an existing file at `path` is only replaced by a complete video.
/// - A range (first frame after the source's start) is shifted to start at 0, audio with it.
public final class VideoWriter {
    /// The final output path.
    public let path: String
    /// The temporary file being written until `finish()`.
    public let temporaryPath: String
    /// Encoder in use: "libx264" or "mpeg4".
    public let encoderName: String
    /// Frame size accepted by `write` (the source's display size).
    public let width: Int, height: Int
    /// Encoded size (even).
    public let encodedWidth: Int, encodedHeight: Int
    public private(set) var framesWritten = 0
    /// Non-fatal problems, e.g. an audio codec the container cannot hold.
    public private(set) var warnings: [String] = []

    private var output: UnsafeMutablePointer<AVFormatContext>?
    private var encoder: UnsafeMutablePointer<AVCodecContext>?
    private var stream: UnsafeMutablePointer<AVStream>?
    private var picture: UnsafeMutablePointer<AVFrame>?
    private var packet: UnsafeMutablePointer<AVPacket>?
    private let converter: YUVConverter
    private var audio: AudioRemuxer?
    private let sourceTimeBase: AVRational
    private let sourceStartPTS: Int64
    private let trimAudioEnd: Bool
    private var shiftPTS: Int64?            // source pts of the first written frame minus the source start
    private var lastPTS: Int64?             // last pts given to the encoder (encoder time base)
    private var lastFrameEnd: Double = 0    // source time (s) just after the last written frame
    private let frameDuration: Double
    private var state: State = .open
    private enum State { case open, finished, aborted }

    /// Opens `path` for frames shaped and timed like `reader`'s, copying its audio (trimmed to the
    /// reader's range when it has one).
    public convenience init(path: String, like reader: VideoReader, options: VideoWriterOptions = .init()) throws {
        try self.init(path: path, info: reader.info, audioSource: options.copyAudio ? reader.audioSource : nil,
                      audioPackets: options.copyAudio ? reader.audioPackets : nil, trimAudioToRange: reader.end != nil, options: options)
    }

    /// Opens `path` for frames of `info`'s display size and time base; copies `audioSource`'s audio
    /// streams when given (cut after the last frame when `trimAudioToRange`).
    /// `audioPackets`: the audio of a source read once, kept by its reader while decoding (used
    /// instead of reopening `audioSource`).
    public init(path: String, info: VideoInfo, audioSource: String? = nil, audioPackets: AudioPackets? = nil,
                trimAudioToRange: Bool = false, options: VideoWriterOptions = .init()) throws {
        _ = StreamDecoder.setUp
        self.path = path
        width = info.width
        height = info.height
        guard width > 0, height > 0 else { throw VideoError.encodeFailed(path, reason: "invalid frame size \(width)x\(height)") }
        converter = try YUVConverter(width: width, height: height)
        encodedWidth = converter.paddedWidth
        encodedHeight = converter.paddedHeight
        sourceStartPTS = info.startPTS
        trimAudioEnd = trimAudioToRange
        frameDuration = 1 / (info.averageFPS > 0 ? info.averageFPS : 25)

        let url = URL(fileURLWithPath: path)
        let ext = url.pathExtension.lowercased()
        let formatName: String
        switch ext {
        case "mp4", "m4v": formatName = "mp4"
        case "mov": formatName = "mov"
        case "mkv": formatName = "matroska"
        default: throw VideoError.unsupportedContainer(path)
        }
        let directory = url.deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw VideoError.unwritable(path, reason: "folder \(directory) does not exist")
        }
        temporaryPath = TemporaryFiles.path(beside: path)

        // Encoder.
        let codec: UnsafePointer<AVCodec>
        switch options.encoder {
        case .h264:
            guard let c = avcodec_find_encoder_by_name("libx264") else {
                throw VideoError.encoderUnavailable(path, reason: "this FFmpeg has no libx264")
            }
            codec = c
        case .mpeg4:
            guard let c = avcodec_find_encoder(AV_CODEC_ID_MPEG4) else { throw VideoError.encoderUnavailable(path, reason: "no MPEG-4 encoder") }
            codec = c
        case .auto:
            guard let c = avcodec_find_encoder_by_name("libx264") ?? avcodec_find_encoder(AV_CODEC_ID_MPEG4) else {
                throw VideoError.encoderUnavailable(path, reason: "neither libx264 nor the MPEG-4 encoder is available")
            }
            codec = c
        }
        encoderName = String(cString: codec.pointee.name)
        let isMPEG4 = codec.pointee.id == AV_CODEC_ID_MPEG4

        var tb = AVRational(num: info.timeBase.num, den: info.timeBase.den)
        if tb.num <= 0 || tb.den <= 0 {
            tb = av_inv_q(av_d2q(info.averageFPS > 0 ? info.averageFPS : 25, 1 << 16))
        }
        sourceTimeBase = tb
        // MPEG-4 Part 2 stores the time base in 16 bits: fall back to a frame-rate grid.
        var encoderTB = tb
        if isMPEG4 && (tb.den > 65535 || tb.num > 65535) {
            encoderTB = av_inv_q(av_d2q(info.realFPS > 0 ? info.realFPS : 25, 65535))
        }

        var oc: UnsafeMutablePointer<AVFormatContext>? = nil
        guard avformat_alloc_output_context2(&oc, nil, formatName, temporaryPath) >= 0, let out = oc else {
            throw VideoError.unsupportedContainer(path)
        }
        output = out
        guard let enc = avcodec_alloc_context3(codec) else { throw VideoError.encoderUnavailable(path, reason: "out of memory") }
        encoder = enc
        enc.pointee.width = Int32(encodedWidth)
        enc.pointee.height = Int32(encodedHeight)
        enc.pointee.pix_fmt = AV_PIX_FMT_YUV420P
        enc.pointee.time_base = encoderTB
        enc.pointee.framerate = av_d2q(info.averageFPS > 0 ? info.averageFPS : 25, 1 << 16)
        // Pixels are not resampled by the reader, so the stream keeps the source's pixel shape;
        // a 90°/270° rotation turns it.
        let sar = info.rotation % 180 == 0 ? info.sampleAspectRatio : Rational(info.sampleAspectRatio.den, info.sampleAspectRatio.num)
        enc.pointee.sample_aspect_ratio = AVRational(num: sar.num, den: sar.den)
        enc.pointee.colorspace = AVCOL_SPC_BT709
        enc.pointee.color_primaries = AVCOL_PRI_BT709
        enc.pointee.color_trc = AVCOL_TRC_BT709
        enc.pointee.color_range = AVCOL_RANGE_MPEG
        enc.pointee.thread_count = Int32(max(0, options.threads))
        if out.pointee.oformat.pointee.flags & AVFMT_GLOBALHEADER != 0 {
            enc.pointee.flags |= AV_CODEC_FLAG_GLOBAL_HEADER
        }
        if isMPEG4 {
            enc.pointee.flags |= AV_CODEC_FLAG_QSCALE
            enc.pointee.global_quality = Int32(FF_QP2LAMBDA) * Int32(min(31, max(1, options.mpeg4Quantizer)))
            enc.pointee.gop_size = 12
        } else {
            guard VideoWriter.x264Presets.contains(options.preset),
                  av_opt_set(enc.pointee.priv_data, "preset", options.preset, 0) >= 0 else {
                throw VideoError.encoderUnavailable(path, reason: "unknown libx264 preset '\(options.preset)' (use one of \(VideoWriter.x264Presets.joined(separator: ", ")))")
            }
            guard options.crf >= 0, options.crf <= 51 else {
                throw VideoError.encoderUnavailable(path, reason: "CRF \(options.crf) is outside 0…51")
            }
            av_opt_set_double(enc.pointee.priv_data, "crf", options.crf, 0)
        }
        if let k = options.keyframeInterval, k > 0 { enc.pointee.gop_size = Int32(k) }
        let opened = avcodec_open2(enc, codec, nil)
        guard opened >= 0 else {
            throw VideoError.encoderUnavailable(path, reason: "cannot open \(encoderName): \(ffErrorText(opened))")
        }
        guard let st = avformat_new_stream(out, nil) else { throw VideoError.encodeFailed(path, reason: "cannot add a video stream") }
        stream = st
        st.pointee.time_base = encoderTB
        st.pointee.avg_frame_rate = enc.pointee.framerate
        st.pointee.sample_aspect_ratio = enc.pointee.sample_aspect_ratio
        guard avcodec_parameters_from_context(st.pointee.codecpar, enc) >= 0 else {
            throw VideoError.encodeFailed(path, reason: "cannot describe the video stream")
        }

        if let audioPackets {
            let remuxer = try AudioRemuxer(packets: audioPackets, source: info.source, output: out)
            warnings += remuxer.warnings
            if remuxer.hasStreams { audio = remuxer }
        } else if let audioSource {
            let remuxer = try AudioRemuxer(source: audioSource, output: out)
            warnings += remuxer.warnings
            if remuxer.hasStreams { audio = remuxer }
        }

        let temporary = temporaryPath
        let opened2 = TemporaryFiles.create(temporary) { avio_open(&out.pointee.pb, temporary, AVIO_FLAG_WRITE) }
        guard opened2 >= 0 else {
            TemporaryFiles.discard(temporary)
            throw VideoError.unwritable(path, reason: ffErrorText(opened2))
        }
        var muxOptions: OpaquePointer? = nil
        if formatName == "mp4" || formatName == "mov" {
            // The index (moov) goes first so players can start before the whole file arrives.
            av_dict_set(&muxOptions, "movflags", "+faststart", 0)
        }
        let header = avformat_write_header(out, &muxOptions)
        av_dict_free(&muxOptions)
        guard header >= 0 else {
            abort()
            throw VideoError.encodeFailed(path, reason: "cannot write the container header: \(ffErrorText(header))")
        }
        picture = av_frame_alloc()
        packet = av_packet_alloc()
        guard let picture else { abort(); throw VideoError.encodeFailed(path, reason: "out of memory") }
        picture.pointee.format = AV_PIX_FMT_YUV420P.rawValue
        picture.pointee.width = Int32(encodedWidth)
        picture.pointee.height = Int32(encodedHeight)
        guard av_frame_get_buffer(picture, 0) >= 0 else { abort(); throw VideoError.encodeFailed(path, reason: "out of memory") }
    }

    deinit { abort() }

    /// libx264's presets, fastest first.
    public static let x264Presets = ["ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow", "placebo"]

    /// Encodes one frame at its pts (source time base). Timestamps must increase; a repeated or
    /// decreasing pts is moved one tick after the previous frame.
    public func write(_ frame: VideoFrame) throws {
        guard state == .open, let enc = encoder, let picture else {
            throw VideoError.encodeFailed(path, reason: "the writer is already finished or aborted")
        }
        guard frame.width == width, frame.height == height, frame.rgb.count == width * height * 3 else {
            throw VideoError.frameMismatch(path, reason: "frame \(frame.index) is \(frame.width)x\(frame.height), the writer expects \(width)x\(height)")
        }
        if shiftPTS == nil {
            // A range starting later than the source starts at 0 in the output, audio likewise.
            let shift = max(0, frame.pts - sourceStartPTS)
            shiftPTS = shift
            audio?.begin(at: Double(frame.pts) * av_q2d(sourceTimeBase), shift: Double(shift) * av_q2d(sourceTimeBase))
        }
        let sourcePTS = frame.pts - shiftPTS!
        var pts = av_rescale_q(sourcePTS, sourceTimeBase, enc.pointee.time_base)
        if let last = lastPTS, pts <= last { pts = last + 1 }
        lastPTS = pts
        lastFrameEnd = Double(frame.pts) * av_q2d(sourceTimeBase) + frameDuration

        guard av_frame_make_writable(picture) >= 0 else { throw VideoError.encodeFailed(path, reason: "out of memory") }
        converter.convert(frame.rgb, into: picture)
        picture.pointee.pts = pts
        let sent = avcodec_send_frame(enc, picture)
        guard sent >= 0 else { throw VideoError.encodeFailed(path, reason: "\(encoderName): \(ffErrorText(sent))") }
        try drainPackets()
        // Audio in step with the frames given (the interleaver buffers what the encoder delays);
        // never further, so a range's end can still cut it in finish().
        try audio?.copy(until: Double(frame.pts) * av_q2d(sourceTimeBase), into: output!)
        framesWritten += 1
    }

    private func drainPackets() throws {
        guard let enc = encoder, let packet, let stream, let output else { return }
        while true {
            let r = avcodec_receive_packet(enc, packet)
            if r == pw_averror_eagain() || r == pw_averror_eof() { return }
            guard r >= 0 else { throw VideoError.encodeFailed(path, reason: "\(encoderName): \(ffErrorText(r))") }
            packet.pointee.stream_index = stream.pointee.index
            av_packet_rescale_ts(packet, enc.pointee.time_base, stream.pointee.time_base)
            let w = av_interleaved_write_frame(output, packet)
            guard w >= 0 else { throw VideoError.unwritable(path, reason: ffErrorText(w)) }
        }
    }

    /// Flushes the encoder, copies the remaining audio (only up to the last frame when
    /// `cuttingAudioAtLastFrame`, for a stopped run), completes the container and moves it to `path`.
    /// On failure the temporary file is removed and the error thrown.
    public func finish(cuttingAudioAtLastFrame: Bool = false) throws {
        guard state == .open, let enc = encoder, let output else {
            if state == .finished { return }
            throw VideoError.encodeFailed(path, reason: "the writer was aborted")
        }
        do {
            guard framesWritten > 0 else { throw VideoError.encodeFailed(path, reason: "no frames were written") }
            avcodec_send_frame(enc, nil)
            try drainPackets()
            if let audio {
                if trimAudioEnd || cuttingAudioAtLastFrame { audio.dropFrom = lastFrameEnd }
                try audio.copy(until: nil, into: output)
            }
            let t = av_write_trailer(output)
            guard t >= 0 else { throw VideoError.unwritable(path, reason: "cannot complete the file: \(ffErrorText(t))") }
            let c = avio_closep(&output.pointee.pb)
            guard c >= 0 else { throw VideoError.unwritable(path, reason: ffErrorText(c)) }
            let moved = TemporaryFiles.commit(temporaryPath, to: path)
            guard moved == 0 else {
                throw VideoError.unwritable(path, reason: String(cString: strerror(moved)))
            }
        } catch {
            abort()
            throw error
        }
        release()
        state = .finished
    }

    /// Stops writing and removes the temporary file; `path` is left as it was. Safe to call twice.
    public func abort() {
        guard state == .open else { return }
        state = .aborted
        if let output, output.pointee.pb != nil { avio_closep(&output.pointee.pb) }
        release()
        TemporaryFiles.discard(temporaryPath)
    }

    private func release() {
        audio = nil
        if picture != nil { av_frame_free(&picture) }
        if packet != nil { av_packet_free(&packet) }
        if encoder != nil { avcodec_free_context(&encoder) }
        if output != nil { avformat_free_context(output); output = nil }
    }
}
