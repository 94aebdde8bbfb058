import CFFmpeg

/// One demuxed packet's timing and payload (tests compare copied audio packet by packet).
struct PacketRecord: Equatable {
    var streamIndex: Int
    var seconds: Double
    var bytes: [UInt8]
}

/// Every packet of the given media type in `path`, in file order, with times in seconds.
func packets(in path: String, audio: Bool) throws -> [PacketRecord] {
    _ = StreamDecoder.setUp
    var ctx: UnsafeMutablePointer<AVFormatContext>? = nil
    guard avformat_open_input(&ctx, path, nil, nil) >= 0, let fmt = ctx else { throw VideoError.notMedia(path, reason: "cannot open") }
    defer { avformat_close_input(&ctx) }
    guard avformat_find_stream_info(fmt, nil) >= 0 else { throw VideoError.notMedia(path, reason: "no stream info") }
    var pkt: UnsafeMutablePointer<AVPacket>? = av_packet_alloc()
    defer { av_packet_free(&pkt) }
    let wanted = audio ? AVMEDIA_TYPE_AUDIO : AVMEDIA_TYPE_VIDEO
    var out: [PacketRecord] = []
    while av_read_frame(fmt, pkt) >= 0 {
        let p = pkt!.pointee
        let st = fmt.pointee.streams[Int(p.stream_index)]!
        if st.pointee.codecpar.pointee.codec_type == wanted {
            let tb = st.pointee.time_base
            out.append(PacketRecord(streamIndex: Int(p.stream_index), seconds: Double(p.pts) * Double(tb.num) / Double(tb.den),
                                    bytes: Array(UnsafeBufferPointer(start: p.data, count: Int(p.size)))))
        }
        av_packet_unref(pkt)
    }
    return out
}
