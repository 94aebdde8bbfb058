import Foundation

/// A temporal filter for keypoint tracks, applied per track, per joint and per coordinate.
public enum SmoothingMethod: Sendable, Equatable {
    /// Causal One-Euro filter (Casiez et al. 2012) with time in frames, as mmpose's `OneEuroFilter`:
    /// cutoff = minCutoff + beta·|filtered speed| (cycles per frame, speed in px per frame).
    case oneEuro(minCutoff: Double, beta: Double, derivativeCutoff: Double)
    /// Centred Gaussian-weighted mean over `window` frames (odd); holds `window / 2` frames back.
    case gaussian(window: Int, sigma: Double)
    /// Centred Savitzky–Golay filter (local least-squares polynomial of degree `polyorder` over
    /// `window` frames, odd); holds `window / 2` frames back.
    case savitzkyGolay(window: Int, polyorder: Int)

    /// mmpose's defaults for its `OneEuroFilter` (min_cutoff 0.004, beta 0.7, d_cutoff 1.0).
    public static let oneEuroDefault = SmoothingMethod.oneEuro(minCutoff: 0.004, beta: 0.7, derivativeCutoff: 1.0)
    /// An 11-frame window (mmpose's default window size) with σ = 2 frames.
    public static let gaussianDefault = SmoothingMethod.gaussian(window: 11, sigma: 2.0)
    /// mmpose's `SavizkyGolayFilter` defaults (window 11, polyorder 2).
    public static let savitzkyGolayDefault = SmoothingMethod.savitzkyGolay(window: 11, polyorder: 2)

    /// The names accepted by `--smooth` and the pipeline file's `smoothing.method`.
    public static let names = ["one_euro", "gaussian", "savitzky_golay"]

    /// The method with its default parameters, by name; nil for unknown names.
    public static func named(_ name: String) -> SmoothingMethod? {
        switch name {
        case "one_euro": return oneEuroDefault
        case "gaussian": return gaussianDefault
        case "savitzky_golay": return savitzkyGolayDefault
        default: return nil
        }
    }

    /// The method's name as `named(_:)` takes it.
    public var name: String {
        switch self {
        case .oneEuro: return "one_euro"
        case .gaussian: return "gaussian"
        case .savitzkyGolay: return "savitzky_golay"
        }
    }

    /// Frames a smoother holds back before releasing a frame (0 for the causal One-Euro filter).
    public var latency: Int {
        switch self {
        case .oneEuro: return 0
        case let .gaussian(window, _), let .savitzkyGolay(window, _): return window / 2
        }
    }

    /// Describes the first invalid parameter, or nil.
    public var problem: String? {
        switch self {
        case let .oneEuro(minCutoff, beta, derivativeCutoff):
            if !(minCutoff > 0) || !minCutoff.isFinite { return "one_euro min_cutoff must be positive, got \(minCutoff)" }
            if !(beta >= 0) || !beta.isFinite { return "one_euro beta must be 0 or more, got \(beta)" }
            if !(derivativeCutoff > 0) || !derivativeCutoff.isFinite { return "one_euro d_cutoff must be positive, got \(derivativeCutoff)" }
        case let .gaussian(window, sigma):
            if window < 1 || window % 2 == 0 { return "gaussian window must be a positive odd number of frames, got \(window)" }
            if !(sigma > 0) || !sigma.isFinite { return "gaussian sigma must be positive, got \(sigma)" }
        case let .savitzkyGolay(window, polyorder):
            if window < 3 || window % 2 == 0 { return "savitzky_golay window must be an odd number of frames ≥ 3, got \(window)" }
            if polyorder < 1 || polyorder >= window { return "savitzky_golay polyorder must be in 1..<window (\(window)), got \(polyorder)" }
        }
        return nil
    }
}

/// Smooths a keypoint stream frame by frame, per track and joint, with bounded memory.
///
/// Frames go in with `push` in stream order and come out, in the same order and otherwise
/// unchanged (boxes, scores, persons), from `push` and `finish`, `method.latency` frames later.
/// A track's history is the run of consecutive frames it appears in: a track that skips a frame
/// starts fresh (as mmpose's `Smoother` drops the history of tracks absent from a frame). Joints
/// scoring below `scoreThreshold` pass through unchanged and are not used to smooth their
/// neighbours, so an unreliable joint neither moves nor drags a reliable one. Persons without a
/// track id pass through unchanged (there is no identity to follow).
public final class KeypointSmoother {
    public let method: SmoothingMethod
    public let scoreThreshold: Double

    /// One-Euro state per track: per joint and coordinate, the last filtered value and speed.
    private struct OneEuroState {
        var frame: Int
        var value: [[Double]]     // [joint][x, y]; nil-equivalent when `started` is false
        var speed: [[Double]]
        var started: [Bool]
    }
    private var oneEuro: [Int: OneEuroState] = [:]
    /// Tracks present in the previous frame pushed (continuity for the One-Euro state).
    private var previousTracks: Set<Int> = []

    /// Raw frames around the next frame to release (windowed methods): up to `latency` already
    /// released frames, then the pending ones.
    private var frames: [FrameKeypoints] = []
    private var released = 0

    public init(method: SmoothingMethod, scoreThreshold: Double = 0.3) {
        precondition(method.problem == nil, method.problem ?? "")
        self.method = method
        self.scoreThreshold = scoreThreshold
    }

    /// A whole stream at once (e.g. an existing keypoint stream before drawing it).
    public func smooth(_ frames: [FrameKeypoints]) -> [FrameKeypoints] {
        var out: [FrameKeypoints] = []
        out.reserveCapacity(frames.count)
        for frame in frames { out += push(frame) }
        return out + finish()
    }

    /// Adds the next frame; returns the frames that are now final (possibly none).
    public func push(_ frame: FrameKeypoints) -> [FrameKeypoints] {
        switch method {
        case let .oneEuro(minCutoff, beta, derivativeCutoff):
            return [filterOneEuro(frame, minCutoff: minCutoff, beta: beta, derivativeCutoff: derivativeCutoff)]
        case .gaussian, .savitzkyGolay:
            frames.append(frame)
            var out: [FrameKeypoints] = []
            while released < frames.count && frames.count - 1 - released >= method.latency {
                out.append(releaseWindowed())
            }
            return out
        }
    }

    /// The end of the stream: returns the frames still held back.
    public func finish() -> [FrameKeypoints] {
        var out: [FrameKeypoints] = []
        while released < frames.count { out.append(releaseWindowed()) }
        frames.removeAll()
        released = 0
        return out
    }

    // MARK: One-Euro

    private func filterOneEuro(_ frame: FrameKeypoints, minCutoff: Double, beta: Double, derivativeCutoff: Double) -> FrameKeypoints {
        var out = frame
        var next: [Int: OneEuroState] = [:]
        for (p, person) in frame.persons.enumerated() {
            guard let id = person.trackID else { continue }
            let joints = person.keypoints.count
            var state = previousTracks.contains(id) ? oneEuro[id] : nil
            if state == nil || state!.value.count != joints {
                state = OneEuroState(frame: frame.frame, value: Array(repeating: [0, 0], count: joints),
                                     speed: Array(repeating: [0, 0], count: joints), started: Array(repeating: false, count: joints))
            }
            // Time runs in frames, as in mmpose (t_e = 1 between consecutive frames).
            let te = Double(max(1, frame.frame - state!.frame))
            for j in 0..<joints where person.keypoints[j][2] >= scoreThreshold {
                if !state!.started[j] {
                    state!.value[j] = [person.keypoints[j][0], person.keypoints[j][1]]
                    state!.speed[j] = [0, 0]
                    state!.started[j] = true
                    continue
                }
                for c in 0..<2 {
                    let x = person.keypoints[j][c]
                    let speed = (x - state!.value[j][c]) / te
                    let speedHat = Self.smooth(speed, previous: state!.speed[j][c], alpha: Self.alpha(te, derivativeCutoff))
                    let cutoff = minCutoff + beta * abs(speedHat)
                    let xHat = Self.smooth(x, previous: state!.value[j][c], alpha: Self.alpha(te, cutoff))
                    state!.value[j][c] = xHat
                    state!.speed[j][c] = speedHat
                    out.persons[p].keypoints[j][c] = xHat
                }
            }
            state!.frame = frame.frame
            next[id] = state
        }
        oneEuro = next
        previousTracks = Set(frame.persons.compactMap(\.trackID))
        return out
    }

    /// The One-Euro smoothing factor for a time step and cutoff frequency.
    static func alpha(_ te: Double, _ cutoff: Double) -> Double {
        let r = 2 * Double.pi * cutoff * te
        return r / (r + 1)
    }

    /// mmpose's `a·x + (1 − a)·x_prev`, written so that a still joint stays exactly where it is.
    static func smooth(_ x: Double, previous: Double, alpha: Double) -> Double {
        previous + alpha * (x - previous)
    }

    // MARK: Windowed (Gaussian, Savitzky–Golay)

    private func releaseWindowed() -> FrameKeypoints {
        let centre = released
        var out = frames[centre]
        for (p, person) in out.persons.enumerated() {
            guard let id = person.trackID else { continue }
            // The track's samples in this window, contiguous with the centre frame.
            var samples: [(dt: Double, person: PersonPose)] = [(0, person)]
            var i = centre - 1
            while i >= 0 && centre - i <= method.latency, let other = frames[i].persons.first(where: { $0.trackID == id }) {
                samples.append((Double(frames[i].frame - frames[centre].frame), other)); i -= 1
            }
            i = centre + 1
            while i < frames.count && i - centre <= method.latency, let other = frames[i].persons.first(where: { $0.trackID == id }) {
                samples.append((Double(frames[i].frame - frames[centre].frame), other)); i += 1
            }
            for j in person.keypoints.indices where person.keypoints[j][2] >= scoreThreshold {
                let valid = samples.filter { $0.person.keypoints.count == person.keypoints.count && $0.person.keypoints[j][2] >= scoreThreshold }
                    .sorted { $0.dt < $1.dt }
                for c in 0..<2 {
                    // Relative to the centre value, so that a still joint stays exactly where it is.
                    let centre = person.keypoints[j][c]
                    let points = valid.map { (t: $0.dt, x: $0.person.keypoints[j][c] - centre) }
                    out.persons[p].keypoints[j][c] = centre + estimate(points)
                }
            }
        }
        released += 1
        // Keep `latency` released frames as the past side of the next window.
        let drop = released - method.latency
        if drop > 0 { frames.removeFirst(drop); released -= drop }
        return out
    }

    /// The smoothed value at t = 0 from samples (t in frames relative to the centre, sorted).
    private func estimate(_ points: [(t: Double, x: Double)]) -> Double {
        switch method {
        case .oneEuro: preconditionFailure("windowed estimate for a causal method")
        case let .gaussian(_, sigma):
            var sum = 0.0, weights = 0.0
            for p in points {
                let w = exp(-0.5 * (p.t / sigma) * (p.t / sigma))
                sum += w * p.x; weights += w
            }
            return sum / weights
        case let .savitzkyGolay(_, polyorder):
            return Self.polynomialFitAtZero(points, degree: min(polyorder, points.count - 1))
        }
    }

    /// The least-squares polynomial of `degree` through the points, evaluated at t = 0 (with all
    /// samples of a centred window present this is the Savitzky–Golay filter's value).
    static func polynomialFitAtZero(_ points: [(t: Double, x: Double)], degree: Int) -> Double {
        let n = degree + 1
        if n <= 1 { return points.reduce(0) { $0 + $1.x } / Double(points.count) }
        // Normal equations A·c = b with A[r][k] = Σ t^(r+k), b[r] = Σ t^r·x, solved by Gaussian
        // elimination with partial pivoting (n ≤ window, tiny and well-conditioned for t in frames).
        var a = Array(repeating: Array(repeating: 0.0, count: n + 1), count: n)
        for p in points {
            var powers = [1.0]
            for _ in 1..<(2 * n) { powers.append(powers.last! * p.t) }
            for r in 0..<n {
                for k in 0..<n { a[r][k] += powers[r + k] }
                a[r][n] += powers[r] * p.x
            }
        }
        for col in 0..<n {
            let pivot = (col..<n).max { abs(a[$0][col]) < abs(a[$1][col]) }!
            a.swapAt(col, pivot)
            guard abs(a[col][col]) > 1e-12 else { return points.reduce(0) { $0 + $1.x } / Double(points.count) }
            for r in 0..<n where r != col {
                let f = a[r][col] / a[col][col]
                if f == 0 { continue }
                for k in col...n { a[r][k] -= f * a[col][k] }
            }
        }
        // c0 (the value at t = 0).
        return a[0][n] / a[0][0]
    }
}
