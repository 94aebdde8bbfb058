import Dispatch
import Foundation

/// What the layers have spent, process-wide, building their transformed weights (Winograd kernels,
/// packed GEMM panels): work done on each layer's first call, so part of the first frame's latency
/// and of peak memory.
public enum WeightTransforms {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var totals = (wall: 0.0, cpu: 0.0, bytes: 0)

    /// Wall seconds spent building transformed weights so far.
    public static var seconds: Double { lock.lock(); defer { lock.unlock() }; return totals.wall }
    /// Process CPU seconds (all threads) over those builds: the steadier measure on a shared machine.
    public static var cpuSeconds: Double { lock.lock(); defer { lock.unlock() }; return totals.cpu }
    /// Bytes of transformed weights built so far.
    public static var bytes: Int { lock.lock(); defer { lock.unlock() }; return totals.bytes }

    /// Runs `build` (which makes `floats` transformed weights) and adds its time and size to the totals.
    static func timed<T>(floats: Int, _ build: () -> T) -> T {
        let start = DispatchTime.now().uptimeNanoseconds, cpuStart = processCPUSeconds()
        let result = build()
        let wall = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9, cpu = processCPUSeconds() - cpuStart
        lock.lock(); totals.wall += wall; totals.cpu += cpu; totals.bytes += 4 * floats; lock.unlock()
        return result
    }

    private static func processCPUSeconds() -> Double {
        var usage = rusage()
        #if os(Linux)
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        #else
        getrusage(RUSAGE_SELF, &usage)
        #endif
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }
}
