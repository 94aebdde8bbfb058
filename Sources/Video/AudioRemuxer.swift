import CFFmpeg

/// Copies a source's audio packets unchanged (no decoding) into an output container, in step with
/// the video so the muxer can interleave them.
final class AudioRemuxer {
    private var input: UnsafeMutablePointer<AVFormatContext>?
    /// Packets kept while decoding a source that cannot be reopened (instead of `input`).
    private var kept: AudioPackets?
    private var packet: UnsafeMutablePointer<AVPacket>? = av_packet_alloc()
    /// input stream index → output stream
    private var mapping: [Int32: UnsafeMutablePointer<AVStream>] = [:]
    /// input stream index → its time base
    private var timeBases: [Int32: AVRational] = [:]
    private(set) var warnings: [String] = []
    private var exhausted = false
    /// Packets starting before this source time (seconds) are dropped; nil keeps everything.
    private var dropBefore: Double?
    /// Seconds subtracted from every packet's time (the video range's start).
    private var shift: Double = 0

    var hasStreams: Bool { !mapping.isEmpty }

    /// Adds an output stream for every audio stream of `source` the output container can hold.
    init(source: String, output: UnsafeMutablePointer<AVFormatContext>) throws {
        var ctx: UnsafeMutablePointer<AVFormatContext>? = nil
        guard avformat_open_input(&ctx, source, nil, nil) >= 0, let fmt = ctx else {
            throw VideoError.notMedia(source, reason: "cannot reopen it to copy its audio")
        }
        input = fmt
        guard avformat_find_stream_info(fmt, nil) >= 0 else {
            throw VideoError.notMedia(source, reason: "cannot read its stream information to copy audio")
        }
        for i in 0..<Int(fmt.pointee.nb_streams) {
            let st = fmt.pointee.streams[i]!
            let par = st.pointee.codecpar!
            guard par.pointee.codec_type == AVMEDIA_TYPE_AUDIO else {
                st.pointee.discard = AVDISCARD_ALL
                continue
            }
            let name = String(cString: avcodec_get_name(par.pointee.codec_id))
            if avformat_query_codec(output.pointee.oformat, par.pointee.codec_id, FF_COMPLIANCE_NORMAL) != 1 {
                warnings.append("audio stream \(i) (\(name)) cannot be stored in \(String(cString: output.pointee.oformat.pointee.name)); it is left out")
                st.pointee.discard = AVDISCARD_ALL
                continue
            }
            guard let out = avformat_new_stream(output, nil), avcodec_parameters_copy(out.pointee.codecpar, par) >= 0 else {
                throw VideoError.encodeFailed(source, reason: "cannot add an audio stream to the output")
            }
            // The source container's codec tag may mean nothing in the output container.
            out.pointee.codecpar.pointee.codec_tag = 0
            out.pointee.time_base = st.pointee.time_base
            av_dict_copy(&out.pointee.metadata, st.pointee.metadata, 0)
            out.pointee.disposition = st.pointee.disposition
            mapping[Int32(i)] = out
            timeBases[Int32(i)] = st.pointee.time_base
        }
    }

    /// Adds an output stream for every kept audio stream the output container can hold; packets come
    /// from `packets` as the decoder demuxes them.
    init(packets: AudioPackets, source: String, output: UnsafeMutablePointer<AVFormatContext>) throws {
        kept = packets
        for s in packets.streams {
            let name = String(cString: avcodec_get_name(s.parameters.pointee.codec_id))
            if avformat_query_codec(output.pointee.oformat, s.parameters.pointee.codec_id, FF_COMPLIANCE_NORMAL) != 1 {
                warnings.append("audio stream \(s.sourceIndex) (\(name)) cannot be stored in \(String(cString: output.pointee.oformat.pointee.name)); it is left out")
                continue
            }
            guard let out = avformat_new_stream(output, nil), avcodec_parameters_copy(out.pointee.codecpar, s.parameters) >= 0 else {
                throw VideoError.encodeFailed(source, reason: "cannot add an audio stream to the output")
            }
            out.pointee.codecpar.pointee.codec_tag = 0
            out.pointee.time_base = s.timeBase
            av_dict_copy(&out.pointee.metadata, s.metadata, 0)
            out.pointee.disposition = s.disposition
            mapping[s.sourceIndex] = out
            timeBases[s.sourceIndex] = s.timeBase
        }
    }

    deinit {
        av_packet_free(&packet)
        avformat_close_input(&input)
    }

    /// Starts the copy at `start` seconds (source time) and moves packets `shift` seconds earlier
    /// (the amount the video was moved).
    func begin(at start: Double, shift: Double) {
        guard shift > 0 else { return }
        self.shift = shift
        dropBefore = start
        // Kept packets arrive in order from the decoder's position: dropping the early ones is enough.
        guard let input else { return }
        let ts = Int64(start * Double(AV_TIME_BASE))
        _ = avformat_seek_file(input, -1, Int64.min, ts, ts, 0)
    }

    /// The next source packet into `packet`: read from the reopened input, or taken from the kept
    /// packets (nil when none is waiting yet).
    private func nextPacket(_ packet: UnsafeMutablePointer<AVPacket>) -> Bool {
        if let input { return av_read_frame(input, packet) >= 0 }
        guard let kept, let taken = kept.next() else { return false }
        av_packet_move_ref(packet, taken)
        var freed: UnsafeMutablePointer<AVPacket>? = taken
        av_packet_free(&freed)
        return true
    }

    /// Packets starting at or after this source time (seconds) are dropped (the end of a video range).
    var dropFrom: Double?

    /// Writes audio packets up to the first one at or after `limit` seconds (source time); nil copies
    /// everything left (except what `dropFrom` excludes).
    func copy(until limit: Double?, into output: UnsafeMutablePointer<AVFormatContext>) throws {
        guard input != nil || kept != nil, let packet, !exhausted, !mapping.isEmpty else { return }
        while true {
            guard nextPacket(packet) else {
                // A reopened input is read to its end; kept packets may still come with later frames.
                if input != nil || limit == nil { exhausted = true }
                return
            }
            defer { av_packet_unref(packet) }
            guard let out = mapping[packet.pointee.stream_index], let tb = timeBases[packet.pointee.stream_index] else { continue }
            let pts = packet.pointee.pts != pw_av_nopts_value() ? packet.pointee.pts : packet.pointee.dts
            let seconds = pts == pw_av_nopts_value() ? nil : Double(pts) * Double(tb.num) / Double(tb.den)
            if let dropBefore, let s = seconds, s < dropBefore - 1e-6 { continue }
            if let dropFrom, let s = seconds, s >= dropFrom - 1e-6 {
                // Several audio streams interleave loosely; stop reading well past the end.
                if s > dropFrom + 2 { exhausted = true; return }
                continue
            }
            if shift > 0 {
                let offset = Int64((shift * Double(tb.den) / Double(tb.num)).rounded())
                if packet.pointee.pts != pw_av_nopts_value() { packet.pointee.pts -= offset }
                if packet.pointee.dts != pw_av_nopts_value() { packet.pointee.dts -= offset }
            }
            packet.pointee.stream_index = out.pointee.index
            av_packet_rescale_ts(packet, tb, out.pointee.time_base)
            packet.pointee.pos = -1
            let w = av_interleaved_write_frame(output, packet)
            if w < 0 { throw VideoError.encodeFailed(String(cString: output.pointee.url), reason: "writing audio: \(ffErrorText(w))") }
            if let limit, let s = seconds, s >= limit { return }
        }
    }
}
