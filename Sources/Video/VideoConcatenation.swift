import CFFmpeg
import Failures
import Foundation

/// Joins videos end to end by copying their packets (no decoding, no re-encoding): the annotated
/// videos of a video's segments into one. Every part must have the same streams (codec, size,
/// encoder settings); each part's timestamps continue where the previous part's last frame ends (its
/// pts plus the part's frame interval), audio moved by the same time, so a constant-frame-rate
/// input's parts give the single run's timing. The result is written to a temporary file beside
/// `path`; `commit()` moves it into place, `discard()` removes it.
public final class VideoConcatenation {
    public let path: String
    /// Video frames written.
    public private(set) var frames = 0
    private let temporaryPath: String
    private var committed = false

    /// What a first pass over a part found.
    private struct Scan {
        var frames = 0
        var firstPTS: Int64?
        var lastPTS: Int64?
        var frameTicks: Int64?
        /// The video pts in presentation order, and how far decoding runs ahead of it at most (frames
        /// decoded before an earlier-shown one: B-frames).
        var sortedPTS: [Int64] = []
        var reorder: Int64 = 0
    }

    /// Concatenates `parts` (in order); `expectedFrames[i]`, when given, is the number of frames part
    /// i must hold (its segment's length). Throws naming the part that does not fit.
    public init(parts: [String], expectedFrames: [Int]? = nil, path: String) throws {
        _ = StreamDecoder.setUp
        self.path = path
        guard !parts.isEmpty else { throw VideoError.encodeFailed(path, reason: "no parts to join") }
        let formatName: String
        switch URL(fileURLWithPath: path).pathExtension.lowercased() {
        case "mp4", "m4v": formatName = "mp4"
        case "mov": formatName = "mov"
        case "mkv": formatName = "matroska"
        default: throw VideoError.unsupportedContainer(path)
        }

        // First pass: every part opens, fits the first, and holds its frames.
        var scans: [Scan] = []
        var first: UnsafeMutablePointer<AVFormatContext>? = try Self.open(parts[0])
        defer { avformat_close_input(&first) }
        for (i, part) in parts.enumerated() {
            var ctx: UnsafeMutablePointer<AVFormatContext>? = try (i == 0 ? first! : Self.open(part))
            defer { if i > 0 { avformat_close_input(&ctx) } }
            if i > 0 { try Self.check(ctx!, fits: first!, part: part, firstPart: parts[0]) }
            let scan = try Self.scan(ctx!, part: part)
            if let expected = expectedFrames?[i], expected != scan.frames {
                throw VideoError.frameMismatch(part, reason: "holds \(scan.frames) frames, but its segment has \(expected): "
                                               + "not the video of this segment, or an unfinished one (rerun that segment)")
            }
            scans.append(scan)
        }
        guard let model = first, let videoIndex = Self.videoStream(model) else { throw VideoError.noVideoStream(parts[0]) }
        let videoTB = model.pointee.streams[videoIndex]!.pointee.time_base
        // A one-frame part has no interval of its own: take another part's, else the stream's rate.
        let rate = model.pointee.streams[videoIndex]!.pointee.avg_frame_rate
        let fallbackTicks = scans.lazy.compactMap(\.frameTicks).first
            ?? (rate.num > 0 && rate.den > 0 ? max(1, av_rescale_q(1, av_inv_q(rate), videoTB)) : 1)
        // Where each part starts in the joined timeline (video time base).
        var offsets: [Int64] = []
        var next: Int64 = 0
        for scan in scans {
            offsets.append(next - (scan.firstPTS ?? 0))
            next += (scan.lastPTS ?? 0) - (scan.firstPTS ?? 0) + (scan.frameTicks ?? fallbackTicks)
        }

        // Each part was encoded alone, so its decode delay (dts behind pts) is its own; one delay for
        // all keeps the decode times increasing across the borders: the j-th packet of a part is
        // decoded at the part's j-th presentation time less the largest delay.
        let delay = scans.map(\.reorder).max() ?? 0

        temporaryPath = TemporaryFiles.path(beside: path)
        var oc: UnsafeMutablePointer<AVFormatContext>? = nil
        guard avformat_alloc_output_context2(&oc, nil, formatName, temporaryPath) >= 0, let out = oc else {
            throw VideoError.unsupportedContainer(path)
        }
        defer { avformat_free_context(out) }
        for s in 0..<Int(model.pointee.nb_streams) {
            let st = model.pointee.streams[s]!
            guard let o = avformat_new_stream(out, nil), avcodec_parameters_copy(o.pointee.codecpar, st.pointee.codecpar) >= 0 else {
                throw VideoError.encodeFailed(path, reason: "cannot add a stream to the output")
            }
            o.pointee.codecpar.pointee.codec_tag = 0
            o.pointee.time_base = st.pointee.time_base
            o.pointee.avg_frame_rate = st.pointee.avg_frame_rate
            o.pointee.sample_aspect_ratio = st.pointee.sample_aspect_ratio
            o.pointee.disposition = st.pointee.disposition
            av_dict_copy(&o.pointee.metadata, st.pointee.metadata, 0)
        }
        let temporary = temporaryPath
        let opened = TemporaryFiles.create(temporary) { avio_open(&out.pointee.pb, temporary, AVIO_FLAG_WRITE) }
        guard opened >= 0 else {
            TemporaryFiles.discard(temporary)
            throw VideoError.unwritable(path, reason: ffErrorText(opened))
        }
        do {
            var options: OpaquePointer? = nil
            if formatName != "matroska" { av_dict_set(&options, "movflags", "+faststart", 0) }
            let header = avformat_write_header(out, &options)
            av_dict_free(&options)
            guard header >= 0 else { throw VideoError.encodeFailed(path, reason: "cannot write the container header: \(ffErrorText(header))") }

            // Second pass: every packet, moved by its part's offset.
            var packet: UnsafeMutablePointer<AVPacket>? = av_packet_alloc()
            defer { av_packet_free(&packet) }
            // Where each stream's last packet ended (output time base).
            var ends: [Int: Int64] = [:], longest: [Int: Int64] = [:]
            for (i, part) in parts.enumerated() {
                var ctx: UnsafeMutablePointer<AVFormatContext>? = try Self.open(part)
                defer { avformat_close_input(&ctx) }
                let input = ctx!
                var videoPackets = 0
                var adjust: [Int: Int64] = [:]
                while av_read_frame(input, packet) >= 0 {
                    defer { av_packet_unref(packet) }
                    let p = packet!
                    let s = Int(p.pointee.stream_index)
                    let inTB = input.pointee.streams[s]!.pointee.time_base
                    let outTB = out.pointee.streams[s]!.pointee.time_base
                    if s == videoIndex {
                        let sorted = scans[i].sortedPTS
                        if videoPackets < sorted.count { p.pointee.dts = sorted[videoPackets] - delay }
                        videoPackets += 1
                        frames += 1
                    }
                    let shift = av_rescale_q(offsets[i], videoTB, inTB)
                    if p.pointee.pts != pw_av_nopts_value() { p.pointee.pts += shift }
                    if p.pointee.dts != pw_av_nopts_value() { p.pointee.dts += shift }
                    av_packet_rescale_ts(p, inTB, outTB)
                    if s != videoIndex && p.pointee.pts != pw_av_nopts_value() {
                        // A part's audio starts where the previous part's ended when the video's offset
                        // puts it within 2 ms of there: the parts hold consecutive packets of one
                        // stream, and mp4 stores each part's audio start only to the millisecond.
                        if adjust[s] == nil {
                            let tolerance = max(1, av_rescale_q(2, AVRational(num: 1, den: 1000), outTB))
                            let gap = (ends[s] ?? p.pointee.pts) - p.pointee.pts
                            adjust[s] = abs(gap) <= tolerance ? gap : 0
                        }
                        p.pointee.pts += adjust[s]!
                        if p.pointee.dts != pw_av_nopts_value() { p.pointee.dts += adjust[s]! }
                        // A part's last packet may be stored shortened (its audio cut at the last
                        // frame): a packet lasts as long as the stream's longest.
                        longest[s] = max(longest[s] ?? 0, p.pointee.duration)
                        ends[s] = max(ends[s] ?? .min, p.pointee.pts + longest[s]!)
                    }
                    p.pointee.pos = -1
                    let w = av_interleaved_write_frame(out, p)
                    guard w >= 0 else {
                        throw VideoError.encodeFailed(path, reason: "copying \(part): \(ffErrorText(w)) (do the parts follow each other?)")
                    }
                }
            }
            let t = av_write_trailer(out)
            guard t >= 0 else { throw VideoError.unwritable(path, reason: "cannot complete the file: \(ffErrorText(t))") }
            let c = avio_closep(&out.pointee.pb)
            guard c >= 0 else { throw VideoError.unwritable(path, reason: ffErrorText(c)) }
        } catch {
            if out.pointee.pb != nil { avio_closep(&out.pointee.pb) }
            TemporaryFiles.discard(temporary)
            throw error
        }
    }

    deinit { discard() }

    /// Moves the joined video into place.
    public func commit() throws {
        guard !committed else { return }
        committed = true
        let code = TemporaryFiles.commit(temporaryPath, to: path)
        guard code == 0 else { throw VideoError.unwritable(path, reason: String(cString: strerror(code))) }
    }

    /// Removes the joined video (nothing is left at `path`'s temporary name).
    public func discard() {
        guard !committed else { return }
        committed = true
        TemporaryFiles.discard(temporaryPath)
    }

    private static func open(_ path: String) throws -> UnsafeMutablePointer<AVFormatContext> {
        var ctx: UnsafeMutablePointer<AVFormatContext>? = nil
        guard avformat_open_input(&ctx, path, nil, nil) >= 0, let fmt = ctx else {
            throw FileManager.default.fileExists(atPath: path) ? VideoError.notMedia(path, reason: "cannot open it") : VideoError.missingFile(path)
        }
        guard avformat_find_stream_info(fmt, nil) >= 0 else {
            avformat_close_input(&ctx)
            throw VideoError.notMedia(path, reason: "no stream information")
        }
        return fmt
    }

    private static func videoStream(_ ctx: UnsafeMutablePointer<AVFormatContext>) -> Int? {
        (0..<Int(ctx.pointee.nb_streams)).first { ctx.pointee.streams[$0]!.pointee.codecpar.pointee.codec_type == AVMEDIA_TYPE_VIDEO }
    }

    /// The same streams as the first part, with the same codec settings: their packets decode with
    /// the first part's stream descriptions.
    private static func check(_ ctx: UnsafeMutablePointer<AVFormatContext>, fits model: UnsafeMutablePointer<AVFormatContext>,
                              part: String, firstPart: String) throws {
        func differ(_ what: String) -> VideoError {
            .frameMismatch(part, reason: "\(what) differs from \(firstPart)'s, so its packets cannot be copied into one file "
                           + "(were the segments run with different settings?)")
        }
        guard ctx.pointee.nb_streams == model.pointee.nb_streams else { throw differ("the number of streams (\(ctx.pointee.nb_streams))") }
        for s in 0..<Int(ctx.pointee.nb_streams) {
            let a = ctx.pointee.streams[s]!.pointee.codecpar.pointee, b = model.pointee.streams[s]!.pointee.codecpar.pointee
            if a.codec_type != b.codec_type || a.codec_id != b.codec_id { throw differ("stream \(s)'s codec") }
            if a.width != b.width || a.height != b.height { throw differ("the frame size (\(a.width)x\(a.height))") }
            if a.sample_rate != b.sample_rate || a.ch_layout.nb_channels != b.ch_layout.nb_channels { throw differ("stream \(s)'s audio format") }
            let ea = a.extradata.map { Array(UnsafeBufferPointer(start: $0, count: Int(a.extradata_size))) } ?? []
            let eb = b.extradata.map { Array(UnsafeBufferPointer(start: $0, count: Int(b.extradata_size))) } ?? []
            if ea != eb { throw differ("stream \(s)'s codec configuration") }
        }
    }

    /// Counts the video frames and finds the first and last pts and the usual frame interval.
    private static func scan(_ ctx: UnsafeMutablePointer<AVFormatContext>, part: String) throws -> Scan {
        guard let v = videoStream(ctx) else { throw VideoError.noVideoStream(part) }
        var scan = Scan()
        var pts: [Int64] = []   // in decode (file) order
        var packet: UnsafeMutablePointer<AVPacket>? = av_packet_alloc()
        defer { av_packet_free(&packet) }
        while av_read_frame(ctx, packet) >= 0 {
            defer { av_packet_unref(packet) }
            guard Int(packet!.pointee.stream_index) == v else { continue }
            scan.frames += 1
            let t = packet!.pointee.pts != pw_av_nopts_value() ? packet!.pointee.pts : packet!.pointee.dts
            if t != pw_av_nopts_value() { pts.append(t) }
        }
        guard scan.frames > 0 else { throw VideoError.frameMismatch(part, reason: "holds no video frame") }
        let sorted = pts.sorted()
        scan.sortedPTS = pts.count == scan.frames ? sorted : []
        scan.reorder = zip(sorted, pts).map { $0 - $1 }.max().map { max(0, $0) } ?? 0
        pts = sorted
        scan.firstPTS = pts.first
        scan.lastPTS = pts.last
        // The most common interval between frames: the frame duration of a constant-rate video.
        var counts: [Int64: Int] = [:]
        for (a, b) in zip(pts, pts.dropFirst()) where b > a { counts[b - a, default: 0] += 1 }
        scan.frameTicks = counts.max { ($0.value, -$0.key) < ($1.value, -$1.key) }?.key
        return scan
    }
}
