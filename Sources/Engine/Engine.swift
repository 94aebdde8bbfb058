// Engine: float32 CPU operators (convolutions, deformable convolution, image ops) on OpenBLAS.
import CBLAS
import CKernels
import Dispatch
import Foundation

/// Thread count used by sgemm and by the engine's own parallel loops.
///
/// OpenBLAS itself is kept single-threaded and sgemm calls are split over the engine's threads by
/// output columns: OpenBLAS's idle worker threads spin (sched_yield) for a long time after each call,
/// stealing cores from the engine's own loops (Winograd transforms and kernels) that run between
/// sgemm calls. With one BLAS thread each call runs in its caller, so concurrent calls are safe.
public enum EngineThreads {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var configured: Int? = nil

    /// Sets the thread count for sgemm and the engine's loops (n ≥ 1).
    public static func set(_ n: Int) {
        let n = max(1, n)
        lock.lock(); configured = n; lock.unlock()
        openblas_set_num_threads(1)
    }

    /// The current thread count; the first use applies the default (active processor count).
    public static var count: Int {
        lock.lock()
        if let n = configured { lock.unlock(); return n }
        let n = max(1, ProcessInfo.processInfo.activeProcessorCount)
        configured = n
        lock.unlock()
        openblas_set_num_threads(1)
        return n
    }
}

/// The OpenBLAS kernel family in use (e.g. "Haswell", "SkylakeX"), for benchmark reports.
public var blasCoreName: String {
    guard let name = openblas_get_corename() else { return "unknown" }
    return String(cString: name)
}

/// Work (floats touched or flops) below which a chunk is not worth handing to another thread: waking
/// a worker costs several microseconds, which the small low-resolution HRNet branches (12×9, 24×18)
/// would otherwise pay several times per layer.
let parallelGrain = 1 << 16

/// Runs body(i) for i in 0..<count, spread over the engine's threads in contiguous chunks of at least
/// `minChunk` items.
@inline(__always)
func parallelChunks(_ count: Int, minChunk: Int = 1, _ body: (Range<Int>) -> Void) {
    let threads = EngineThreads.count
    let chunks = min(threads, max(1, count / max(1, minChunk)))
    if chunks <= 1 || count <= 1 { body(0..<count); return }
    performChunks(chunks, threads: threads) { t in
        let lo = count * t / chunks, hi = count * (t + 1) / chunks
        if lo < hi { body(lo..<hi) }
    }
}

/// body(i) for i in 0..<chunks on the engine's worker pool (CKernels' worker_pool.c: workers spin
/// briefly between loops, so a layer's successive parallel phases do not each pay a thread wake-up).
@inline(__always)
func performChunks(_ chunks: Int, threads: Int, _ body: (Int) -> Void) {
    withoutActuallyEscaping(body) { body in
        var task = body
        withUnsafeMutablePointer(to: &task) { pointer in
            pw_pool_run(Int32(threads), Int32(chunks), { context, chunk in
                context!.assumingMemoryBound(to: ((Int) -> Void).self).pointee(Int(chunk))
            }, pointer)
        }
    }
}

/// body(i) for i in 0..<count as independent tasks side by side on the engine's threads (at most
/// that many at a time, each taking the next index when it finishes one), in the caller's precision;
/// results in index order, the same bits as running the tasks one after another (no engine result
/// depends on which thread computes it; layers inside may still split).
public func concurrentMap<T>(_ count: Int, _ body: (Int) -> T) -> [T] {
    let workers = min(count, EngineThreads.count)
    if workers <= 1 || LayerProfile.isCollecting { return (0..<count).map(body) }
    // The precision is task-local: worker threads would not see the caller's.
    let precision = Precision.current
    let results = ConcurrentResults<T>(count)
    // The tasks are the pool's chunks: layers inside them then run on their task's thread (the pool
    // runs one loop at a time), so the engine never has more threads busy than it was given.
    performChunks(count, threads: workers) { i in results.set(i, precision.run { body(i) }) }
    return results.values
}

/// One result slot per task.
private final class ConcurrentResults<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [T?]
    init(_ count: Int) { slots = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ value: T) { lock.lock(); slots[i] = value; lock.unlock() }
    var values: [T] { slots.map { $0! } }
}
