import CFFmpeg
import Foundation

/// One input opened with libavformat and its best video stream's decoder (send/receive API).
/// Decoding problems are recorded rather than thrown, so a damaged file yields what is decodable.
final class StreamDecoder {
    let path: String
    private(set) var format: UnsafeMutablePointer<AVFormatContext>?
    private(set) var codec: UnsafeMutablePointer<AVCodecContext>?
    let streamIndex: Int32
    private var packet: UnsafeMutablePointer<AVPacket>?
    private var frame: UnsafeMutablePointer<AVFrame>?
    private var draining = false
    private(set) var finished = false
    /// Why reading stopped before the end of the input, when it did (I/O or demuxer error).
    private(set) var readError: String?
    /// Packets or frames the decoder rejected, and the last reason.
    private(set) var decodeErrors = 0
    private(set) var lastDecodeError: String?
    /// The source's audio packets, kept while demuxing (a source that cannot be reopened).
    private(set) var audioPackets: AudioPackets?

    static let setUp: Void = {
        pw_log_install(ProcessInfo.processInfo.environment["POSEWARPER_FFMPEG_LOG"] != nil ? AV_LOG_WARNING : AV_LOG_QUIET)
        avformat_network_init()
    }()

    /// Opens `path` (file or URL). `threads` 0 lets libavcodec choose (one per core).
    /// `keepAudio`: when the source cannot be read twice, keep its audio packets (`audioPackets`).
    init(path: String, threads: Int, singleImage: Bool = false, keepAudio: Bool = false) throws {
        _ = StreamDecoder.setUp
        self.path = path
        pw_log_clear()
        var options: OpaquePointer? = nil
        // A single image file must be read literally, never as an image2 file-name pattern.
        if singleImage { av_dict_set(&options, "pattern_type", "none", 0) }
        var ctx: UnsafeMutablePointer<AVFormatContext>? = nil
        let openResult = avformat_open_input(&ctx, path, nil, &options)
        av_dict_free(&options)
        guard openResult >= 0, let fmt = ctx else {
            throw VideoError.notMedia(path, reason: StreamDecoder.reason(openResult))
        }
        format = fmt
        let infoResult = avformat_find_stream_info(fmt, nil)
        if infoResult < 0 {
            avformat_close_input(&format)
            throw VideoError.notMedia(path, reason: StreamDecoder.reason(infoResult))
        }
        // Prefer the default video stream, ignoring attached pictures (cover art).
        var best: Int32 = -1
        for i in 0..<Int(fmt.pointee.nb_streams) {
            let st = fmt.pointee.streams[i]!
            guard st.pointee.codecpar.pointee.codec_type == AVMEDIA_TYPE_VIDEO,
                  st.pointee.disposition & AV_DISPOSITION_ATTACHED_PIC == 0 else { continue }
            if best < 0 || st.pointee.disposition & AV_DISPOSITION_DEFAULT != 0 && best >= 0 &&
                fmt.pointee.streams[Int(best)]!.pointee.disposition & AV_DISPOSITION_DEFAULT == 0 {
                best = Int32(i)
            }
        }
        guard best >= 0 else {
            let streams = fmt.pointee.nb_streams
            avformat_close_input(&format)
            if streams == 0 {
                throw VideoError.notMedia(path, reason: "no streams found; the file may be truncated or damaged")
            }
            throw VideoError.noVideoStream(path)
        }
        streamIndex = best
        let st = fmt.pointee.streams[Int(best)]!
        let par = st.pointee.codecpar!
        guard let decoder = avcodec_find_decoder(par.pointee.codec_id) else {
            let name = String(cString: avcodec_get_name(par.pointee.codec_id))
            avformat_close_input(&format)
            throw VideoError.unsupportedCodec(path, codec: name == "none" ? "unknown" : name)
        }
        if keepAudio, fmt.pointee.pb != nil, fmt.pointee.pb.pointee.seekable == 0 {
            audioPackets = AudioPackets(format: fmt)
        }
        // Only this stream's packets are needed (and kept audio); the demuxer may skip the rest.
        for i in 0..<Int(fmt.pointee.nb_streams) where Int32(i) != best && !(audioPackets?.holds(Int32(i)) ?? false) {
            fmt.pointee.streams[i]!.pointee.discard = AVDISCARD_ALL
        }
        codec = avcodec_alloc_context3(decoder)
        guard let c = codec, avcodec_parameters_to_context(c, par) >= 0 else {
            close()
            throw VideoError.decodeFailed(path, reason: "cannot configure the \(String(cString: decoder.pointee.name)) decoder")
        }
        c.pointee.pkt_timebase = st.pointee.time_base
        c.pointee.thread_count = Int32(max(0, threads))
        c.pointee.thread_type = FF_THREAD_FRAME | FF_THREAD_SLICE
        let openCodec = avcodec_open2(c, decoder, nil)
        guard openCodec >= 0 else {
            close()
            throw VideoError.unsupportedCodec(path, codec: "\(String(cString: decoder.pointee.name)) (\(ffErrorText(openCodec)))")
        }
        packet = av_packet_alloc()
        frame = av_frame_alloc()
    }

    deinit { close() }

    func close() {
        if frame != nil { av_frame_free(&frame) }
        if packet != nil { av_packet_free(&packet) }
        if codec != nil { avcodec_free_context(&codec) }
        if format != nil { avformat_close_input(&format) }
    }

    /// FFmpeg's error text, with its last logged message when that says more.
    static func reason(_ code: Int32) -> String {
        let logged = String(cString: pw_log_last())
        let text = ffErrorText(code)
        return logged.isEmpty || logged == text ? text : "\(text): \(logged)"
    }

    var stream: UnsafeMutablePointer<AVStream> { format!.pointee.streams[Int(streamIndex)]! }

    /// Seeks to the key frame at or before `pts` (stream time base) and resets the decoder.
    func seek(toPTS pts: Int64) -> Bool {
        guard let fmt = format, let c = codec else { return false }
        let r = av_seek_frame(fmt, streamIndex, pts, AVSEEK_FLAG_BACKWARD)
        avcodec_flush_buffers(c)
        draining = false
        finished = false
        return r >= 0
    }

    /// The next decoded picture in presentation order (valid until the next call), or nil at the end.
    func receive() -> UnsafeMutablePointer<AVFrame>? {
        guard let c = codec, let fmt = format, let frame, let packet, !finished else { return nil }
        var consecutiveErrors = 0
        while true {
            let r = avcodec_receive_frame(c, frame)
            if r == 0 { return frame }
            if r == pw_averror_eof() { finished = true; return nil }
            if r != pw_averror_eagain() {
                recordDecodeError(r)
                consecutiveErrors += 1
                if consecutiveErrors > 64 { finished = true; return nil }
                continue
            }
            if draining { finished = true; return nil }
            let rr = av_read_frame(fmt, packet)
            if rr < 0 {
                if rr != pw_averror_eof() { readError = StreamDecoder.reason(rr) }
                avcodec_send_packet(c, nil)
                draining = true
                continue
            }
            if packet.pointee.stream_index == streamIndex {
                let s = avcodec_send_packet(c, packet)
                if s < 0 && s != pw_averror_eagain() { recordDecodeError(s) }
            } else if let audioPackets, audioPackets.holds(packet.pointee.stream_index) {
                audioPackets.append(packet)
            }
            av_packet_unref(packet)
        }
    }

    private func recordDecodeError(_ code: Int32) {
        decodeErrors += 1
        lastDecodeError = StreamDecoder.reason(code)
    }
}
