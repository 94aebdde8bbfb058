import CFFmpeg
import Foundation

/// Writes a mono 440 Hz sine as AAC in an .m4a with libavcodec's own encoder, so the audio tests
/// need no ffmpeg CLI. Returns the number of audio packets written.
@discardableResult
func writeSineM4A(_ path: String, seconds: Double, sampleRate: Int32 = 48000) throws -> Int {
    struct Failure: Error, CustomStringConvertible { let description: String }
    func check(_ r: Int32, _ what: String) throws { if r < 0 { throw Failure(description: "\(what): \(r)") } }
    guard let codec = avcodec_find_encoder(AV_CODEC_ID_AAC) else { throw Failure(description: "no AAC encoder") }
    var oc: UnsafeMutablePointer<AVFormatContext>? = nil
    try check(avformat_alloc_output_context2(&oc, nil, nil, path), "output context")
    defer { avformat_free_context(oc) }
    var enc: UnsafeMutablePointer<AVCodecContext>? = avcodec_alloc_context3(codec)
    defer { avcodec_free_context(&enc) }
    let e = enc!
    e.pointee.sample_fmt = AV_SAMPLE_FMT_FLTP
    e.pointee.sample_rate = sampleRate
    av_channel_layout_default(&e.pointee.ch_layout, 1)
    e.pointee.bit_rate = 64000
    e.pointee.time_base = AVRational(num: 1, den: sampleRate)
    if oc!.pointee.oformat.pointee.flags & AVFMT_GLOBALHEADER != 0 { e.pointee.flags |= AV_CODEC_FLAG_GLOBAL_HEADER }
    try check(avcodec_open2(e, codec, nil), "open AAC encoder")
    let st = avformat_new_stream(oc, nil)!
    try check(avcodec_parameters_from_context(st.pointee.codecpar, e), "stream parameters")
    st.pointee.time_base = e.pointee.time_base
    try check(avio_open(&oc!.pointee.pb, path, AVIO_FLAG_WRITE), "open \(path)")
    try check(avformat_write_header(oc, nil), "header")
    var frame: UnsafeMutablePointer<AVFrame>? = av_frame_alloc()
    defer { av_frame_free(&frame) }
    let f = frame!
    f.pointee.nb_samples = e.pointee.frame_size
    f.pointee.format = AV_SAMPLE_FMT_FLTP.rawValue
    f.pointee.sample_rate = sampleRate
    try check(av_channel_layout_copy(&f.pointee.ch_layout, &e.pointee.ch_layout), "layout")
    try check(av_frame_get_buffer(f, 0), "frame buffer")
    var packet: UnsafeMutablePointer<AVPacket>? = av_packet_alloc()
    defer { av_packet_free(&packet) }
    var written = 0
    func drain() throws {
        while avcodec_receive_packet(e, packet) >= 0 {
            av_packet_rescale_ts(packet, e.pointee.time_base, st.pointee.time_base)
            packet!.pointee.stream_index = st.pointee.index
            try check(av_interleaved_write_frame(oc, packet), "write audio")
            written += 1
        }
    }
    let total = Int(seconds * Double(sampleRate))
    var pts = 0
    while pts < total {
        try check(av_frame_make_writable(f), "writable")
        let samples = UnsafeMutableRawPointer(f.pointee.data.0!).assumingMemoryBound(to: Float.self)
        for i in 0..<Int(f.pointee.nb_samples) {
            samples[i] = 0.5 * sinf(2 * .pi * 440 * Float(pts + i) / Float(sampleRate))
        }
        f.pointee.pts = Int64(pts)
        try check(avcodec_send_frame(e, f), "encode")
        try drain()
        pts += Int(f.pointee.nb_samples)
    }
    avcodec_send_frame(e, nil)
    try drain()
    try check(av_write_trailer(oc), "trailer")
    avio_closep(&oc!.pointee.pb)
    return written
}
