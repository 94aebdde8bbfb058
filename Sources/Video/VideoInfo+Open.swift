import CFFmpeg
import Foundation

extension VideoReader {
    /// Metadata of an opened container's video stream.
    static func streamInfo(source: String, decoder: StreamDecoder) -> VideoInfo {
        let fmt = decoder.format!
        let st = decoder.stream
        let par = st.pointee.codecpar.pointee
        let tb = st.pointee.time_base
        let rotation = displayRotation(st)
        let w = Int(par.width), h = Int(par.height)
        func rate(_ r: AVRational) -> Double { r.den == 0 ? 0 : Double(r.num) / Double(r.den) }
        var avg = rate(st.pointee.avg_frame_rate)
        var real = rate(st.pointee.r_frame_rate)
        if avg <= 0 { avg = real }
        if real <= 0 { real = avg }
        var duration: Double? = nil
        if st.pointee.duration != pw_av_nopts_value(), st.pointee.duration > 0 {
            duration = Double(st.pointee.duration) * rate(tb)
        } else if fmt.pointee.duration != pw_av_nopts_value(), fmt.pointee.duration > 0 {
            duration = Double(fmt.pointee.duration) / Double(AV_TIME_BASE)
        }
        var audioCount = 0
        var audioCodec: String? = nil
        for i in 0..<Int(fmt.pointee.nb_streams) {
            let s = fmt.pointee.streams[i]!.pointee.codecpar.pointee
            if s.codec_type == AVMEDIA_TYPE_AUDIO {
                audioCount += 1
                if audioCodec == nil { audioCodec = String(cString: avcodec_get_name(s.codec_id)) }
            }
        }
        let sar = st.pointee.sample_aspect_ratio.num > 0 ? st.pointee.sample_aspect_ratio : par.sample_aspect_ratio
        let start = st.pointee.start_time
        var info = VideoInfo(
            source: source,
            container: String(cString: fmt.pointee.iformat.pointee.name),
            width: rotation % 180 == 0 ? w : h, height: rotation % 180 == 0 ? h : w,
            storedWidth: w, storedHeight: h, rotation: rotation,
            sampleAspectRatio: sar.num > 0 && sar.den > 0 ? Rational(sar.num, sar.den) : Rational(1, 1),
            averageFPS: avg, realFPS: real,
            frameCount: st.pointee.nb_frames > 0 ? Int(st.pointee.nb_frames) : nil,
            duration: duration,
            videoCodec: String(cString: avcodec_get_name(par.codec_id)),
            audioCodec: audioCodec, audioStreamCount: audioCount,
            timeBase: Rational(tb.num, tb.den),
            startPTS: start == pw_av_nopts_value() ? 0 : start,
            bitRate: fmt.pointee.bit_rate > 0 ? Int(fmt.pointee.bit_rate) : nil)
        info.canReopen = fmt.pointee.pb == nil ? !VideoReader.isPipe(source) : fmt.pointee.pb.pointee.seekable != 0
        return info
    }

    /// Clockwise display rotation in multiples of 90° from the stream's display matrix (as ffmpeg's
    /// own `autorotate` reads it: the matrix angle is counter-clockwise).
    static func displayRotation(_ st: UnsafeMutablePointer<AVStream>) -> Int {
        let ccw = pw_stream_display_rotation(st)
        guard ccw.isFinite else { return 0 }
        var theta = -ccw.rounded()
        theta -= 360 * (theta / 360 + 0.9 / 360).rounded(.down)
        let quarter = Int((theta / 90).rounded()) % 4
        return quarter * 90
    }

    /// Metadata of an image folder or pattern: size and codec of the first image, a fixed frame rate.
    static func imageSequenceInfo(source: String, files: [String], options: VideoReaderOptions) throws -> VideoInfo {
        let first = try StreamDecoder(path: files[0], threads: 1, singleImage: true)
        let par = first.stream.pointee.codecpar.pointee
        let fps = options.imageSequenceFPS > 0 ? options.imageSequenceFPS : 25
        let q = av_d2q(fps, 1 << 20)
        return VideoInfo(
            source: source, container: "image-sequence",
            width: Int(par.width), height: Int(par.height),
            averageFPS: fps, realFPS: fps,
            frameCount: files.count, duration: Double(files.count) / fps,
            videoCodec: String(cString: avcodec_get_name(par.codec_id)),
            timeBase: Rational(q.den, q.num))
    }
}
