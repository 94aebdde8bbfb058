import CBLAS
import Foundation

/// Measurements of the machine the engine runs on (used by `make bench`).
public enum EngineThroughput {
    /// Median GFLOP/s (2·n³ per call) of a square n×n sgemm on the current thread count.
    public static func sgemmGFLOPs(size n: Int = 2048, repeats: Int = 5) -> Double {
        let a = [Float](repeating: 0.5, count: n * n), b = [Float](repeating: 0.25, count: n * n)
        var c = [Float](repeating: 0, count: n * n)
        var times: [Double] = []
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                c.withUnsafeMutableBufferPointer { cp in
                    for i in 0...repeats {
                        let start = DispatchTime.now().uptimeNanoseconds
                        sgemm(n, n, n, ap.baseAddress!, bp.baseAddress!, cp.baseAddress!)
                        if i > 0 { times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9) }
                    }
                }
            }
        }
        times.sort()
        return 2 * Double(n) * Double(n) * Double(n) / times[times.count / 2] / 1e9
    }
}
