import CBLAS
import CKernels
import Foundation

/// Measurements of the machine the engine runs on (used by `make bench`).
public enum EngineThroughput {
    /// Median GFLOP/s (2·n³ per call) of a square n×n OpenBLAS sgemm on the current thread count.
    public static func sgemmGFLOPs(size n: Int = 2048, repeats: Int = 5) -> Double {
        square(n, repeats) { a, b, c in sgemm(n, n, n, a, b, c) }
    }

    /// Median GFLOP/s of the same product on the engine's own kernels (active tier, engine threads).
    public static func engineGemmGFLOPs(size n: Int = 2048, repeats: Int = 5) -> Double {
        let packed = UnsafeMutablePointer<Float>.allocate(capacity: Int(pw_gemm_packed_size(Int32(n), Int32(n))))
        defer { packed.deallocate() }
        let a = [Float](repeating: 0.5, count: n * n)
        a.withUnsafeBufferPointer { pw_gemm_pack_a($0.baseAddress!, Int32(n), Int32(n), n, packed) }
        return square(n, repeats) { _, b, c in
            gemm(packed, rows: n, depth: n, b, ldb: n, n: n, bias: nil, residual: nil, relu: false, c: c, ldc: n)
        }
    }

    private static func square(_ n: Int, _ repeats: Int,
                               _ body: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>) -> Void) -> Double {
        let a = [Float](repeating: 0.5, count: n * n), b = [Float](repeating: 0.25, count: n * n)
        var c = [Float](repeating: 0, count: n * n)
        var times: [Double] = []
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                c.withUnsafeMutableBufferPointer { cp in
                    for i in 0...repeats {
                        let start = DispatchTime.now().uptimeNanoseconds
                        body(ap.baseAddress!, bp.baseAddress!, cp.baseAddress!)
                        if i > 0 { times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9) }
                    }
                }
            }
        }
        times.sort()
        return 2 * Double(n) * Double(n) * Double(n) / times[times.count / 2] / 1e9
    }
}

/// The CPU's model name and vector features (Linux /proc/cpuinfo), for benchmark reports.
public var cpuDescription: String {
    guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return "unknown CPU" }
    var model = "unknown model", flags: [Substring] = []
    for line in text.split(separator: "\n") {
        let parts = line.split(separator: ":", maxSplits: 1)
        guard parts.count == 2 else { continue }
        let key = parts[0].trimmingCharacters(in: .whitespaces), value = parts[1].trimmingCharacters(in: .whitespaces)
        if key == "model name", model == "unknown model" { model = value }
        if key == "flags", flags.isEmpty {
            flags = value.split(separator: " ").filter { $0.hasPrefix("avx") || $0 == "fma" || $0.hasPrefix("amx") }
        }
    }
    return "\(model) [\(flags.joined(separator: " "))]"
}
