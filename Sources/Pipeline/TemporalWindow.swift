/// Releases PoseWarper's temporal windows from a stream of frames, keeping each frame only while a
/// window still needs it. For frame t the support frames are t + offset for each offset, clipped to
/// the stream's first and last frame as mmpose does. With look-ahead a, window t is released once
/// frame t + a has arrived, or at the end of the stream (a live source of unknown length therefore
/// runs a frames behind, and its last windows are clipped when the end is discovered).
public final class TemporalWindow<Frame> {
    /// One released window: the current frame's index and the support frames in offset order.
    public struct Window {
        public let index: Int
        public let frames: [Frame]
        /// The frame index each support frame came from, in offset order (after clipping).
        public let sourceIndices: [Int]
        public var current: Frame { frames[0] }
    }

    public let offsets: [Int]
    private let lookAhead: Int
    private let lookBehind: Int
    private var frames: [Int: Frame] = [:]
    private var first: Int?
    private var last: Int?          // highest index received
    private var nextWindow = 0
    private var ended = false

    /// `offsets` relative to the current frame, current (0) first.
    public init(offsets: [Int]) {
        precondition(offsets.first == 0, "the current frame's offset 0 comes first")
        self.offsets = offsets
        lookAhead = max(0, offsets.max() ?? 0)
        lookBehind = max(0, -(offsets.min() ?? 0))
    }

    /// Frames currently held (bounded by look-behind + look-ahead + 1).
    public var heldCount: Int { frames.count }

    /// Adds the next frame (indices must be consecutive) and returns the windows it completes.
    public func add(_ frame: Frame, index: Int) -> [Window] {
        precondition(!ended, "frame added after the end of the stream")
        if first == nil { first = index; nextWindow = index }
        precondition(last.map { index == $0 + 1 } ?? true, "frames must arrive with consecutive indices")
        last = index
        frames[index] = frame
        var ready: [Window] = []
        while nextWindow + lookAhead <= index { ready.append(release()) }
        return ready
    }

    /// Marks the end of the stream and returns the remaining windows (clipped at the last frame).
    public func finish() -> [Window] {
        ended = true
        guard let last else { return [] }
        var ready: [Window] = []
        while nextWindow <= last { ready.append(release()) }
        frames.removeAll()
        return ready
    }

    /// The support indices of window `t` for a stream spanning `first…last` (mmpose's clipping).
    public static func supportIndices(of t: Int, offsets: [Int], first: Int, last: Int) -> [Int] {
        offsets.map { min(max(t + $0, first), last) }
    }

    private func release() -> Window {
        let t = nextWindow
        // Before the end is known, a window is only released once t + lookAhead exists, so clipping
        // at the received maximum is clipping at the stream's end only when the stream has ended.
        let indices = TemporalWindow.supportIndices(of: t, offsets: offsets, first: first!, last: last!)
        let window = Window(index: t, frames: indices.map { frames[$0]! }, sourceIndices: indices)
        nextWindow += 1
        // Window t+1 needs nothing before t+1−lookBehind (nor before the first frame, kept for clipping).
        let keepFrom = max(first!, nextWindow - lookBehind)
        for i in frames.keys where i < keepFrom { frames[i] = nil }
        return window
    }
}
