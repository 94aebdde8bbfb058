// Engine: float32 CPU operators (convolutions, deformable convolution, image ops) on OpenBLAS.
import CBLAS
import Dispatch
import Foundation

/// Thread count used by sgemm (OpenBLAS) and by the engine's own parallel loops.
public enum EngineThreads {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var configured: Int? = nil

    /// Sets the thread count for sgemm and the engine's loops (n ≥ 1).
    public static func set(_ n: Int) {
        let n = max(1, n)
        lock.lock(); configured = n; lock.unlock()
        openblas_set_num_threads(Int32(n))
    }

    /// The current thread count; the first use applies the default (active processor count).
    public static var count: Int {
        lock.lock()
        if let n = configured { lock.unlock(); return n }
        let n = max(1, ProcessInfo.processInfo.activeProcessorCount)
        configured = n
        lock.unlock()
        openblas_set_num_threads(Int32(n))
        return n
    }
}

/// Runs body(i) for i in 0..<count, spread over the engine's threads in contiguous chunks.
@inline(__always)
func parallelChunks(_ count: Int, minChunk: Int = 1, _ body: (Range<Int>) -> Void) {
    let threads = EngineThreads.count
    let chunks = min(threads, max(1, count / max(1, minChunk)))
    if chunks <= 1 || count <= 1 { body(0..<count); return }
    DispatchQueue.concurrentPerform(iterations: chunks) { t in
        let lo = count * t / chunks, hi = count * (t + 1) / chunks
        if lo < hi { body(lo..<hi) }
    }
}
