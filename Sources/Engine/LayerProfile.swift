import Foundation

/// Opt-in CPU time per convolution shape, for `posewarper-bench layers` (off by default: one branch per call).
public enum LayerProfile {
    /// One shape's totals: calls, process CPU seconds (all threads), wall seconds, nominal
    /// multiply-accumulates. CPU over wall is how many cores the layer kept busy.
    public struct Entry: Sendable {
        public var calls = 0, cpuSeconds = 0.0, wallSeconds = 0.0, macs = 0
    }
    private static let lock = NSLock()
    nonisolated(unsafe) private static var enabled = false
    nonisolated(unsafe) private static var entries: [String: Entry] = [:]

    /// Starts (or restarts) collecting.
    public static func start() {
        lock.lock(); entries = [:]; enabled = true; lock.unlock()
    }

    /// Stops collecting and returns the totals by shape key.
    public static func stop() -> [String: Entry] {
        lock.lock(); defer { lock.unlock() }
        enabled = false
        return entries
    }

    /// Whether a profile is being collected (layers must then run one at a time: each is charged
    /// the process's CPU time while it runs).
    static var isCollecting: Bool { lock.lock(); defer { lock.unlock() }; return enabled }

    /// Process CPU seconds (all threads): profiles stay comparable on a busy machine, unlike wall time.
    public static func processCPUSeconds() -> Double { seconds(CLOCK_PROCESS_CPUTIME_ID) }

    /// Monotonic wall-clock seconds.
    public static func wallSeconds() -> Double { seconds(CLOCK_MONOTONIC) }

    private static func seconds(_ clock: clockid_t) -> Double {
        var t = timespec()
        clock_gettime(clock, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }

    @inline(__always)
    static func measure<R>(_ key: @autoclosure () -> String, macs: @autoclosure () -> Int, _ body: () -> R) -> R {
        guard enabled else { return body() }
        let start = processCPUSeconds(), wallStart = wallSeconds()
        let result = body()
        let seconds = processCPUSeconds() - start, wall = wallSeconds() - wallStart
        let k = key(), m = macs()
        lock.lock()
        entries[k, default: Entry()].calls += 1
        entries[k, default: Entry()].cpuSeconds += seconds
        entries[k, default: Entry()].wallSeconds += wall
        entries[k, default: Entry()].macs += m
        lock.unlock()
        return result
    }
}
