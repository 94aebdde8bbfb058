import CFFmpeg
import Foundation

/// The audio of a source that can be read only once (stdin, a pipe, a live stream), kept as packets
/// while the video is decoded so the annotated video can copy it without reopening the source.
/// The decoder appends every audio packet (a copy) as it demuxes; the writer takes them in step with
/// its frames. The decoder runs only a few frames ahead of the writer, so few packets wait here.
public final class AudioPackets: @unchecked Sendable {
    /// One audio stream of the source: its codec parameters (a copy) and time base.
    struct Stream {
        let sourceIndex: Int32
        let parameters: UnsafeMutablePointer<AVCodecParameters>
        let timeBase: AVRational
        let metadata: OpaquePointer?
        let disposition: Int32
    }

    let streams: [Stream]
    private let lock = NSLock()
    private var queue: [UnsafeMutablePointer<AVPacket>] = []
    private var head = 0

    /// The audio streams of an opened input.
    init?(format: UnsafeMutablePointer<AVFormatContext>) {
        var streams: [Stream] = []
        for i in 0..<Int(format.pointee.nb_streams) {
            let st = format.pointee.streams[i]!
            guard st.pointee.codecpar.pointee.codec_type == AVMEDIA_TYPE_AUDIO, let par = avcodec_parameters_alloc() else { continue }
            avcodec_parameters_copy(par, st.pointee.codecpar)
            var metadata: OpaquePointer? = nil
            av_dict_copy(&metadata, st.pointee.metadata, 0)
            streams.append(Stream(sourceIndex: Int32(i), parameters: par, timeBase: st.pointee.time_base,
                                  metadata: metadata, disposition: st.pointee.disposition))
        }
        guard !streams.isEmpty else { return nil }
        self.streams = streams
    }

    deinit {
        for i in head..<queue.count { var p: UnsafeMutablePointer<AVPacket>? = queue[i]; av_packet_free(&p) }
        for s in streams {
            var par: UnsafeMutablePointer<AVCodecParameters>? = s.parameters
            avcodec_parameters_free(&par)
            var metadata = s.metadata
            av_dict_free(&metadata)
        }
    }

    /// True when `index` is one of the kept audio streams.
    func holds(_ index: Int32) -> Bool { streams.contains { $0.sourceIndex == index } }

    /// Keeps a copy of a demuxed audio packet (decode thread).
    func append(_ packet: UnsafePointer<AVPacket>) {
        guard let copy = av_packet_clone(packet) else { return }
        lock.lock(); queue.append(copy); lock.unlock()
    }

    /// The oldest waiting packet (the caller frees it), or nil when none is waiting (writer thread).
    func next() -> UnsafeMutablePointer<AVPacket>? {
        lock.lock(); defer { lock.unlock() }
        guard head < queue.count else { return nil }
        let packet = queue[head]
        head += 1
        if head > 256 && head * 2 > queue.count { queue.removeFirst(head); head = 0 }
        return packet
    }
}
