import CBLAS
import CKernels
import Foundation

/// Winograd F(m×m, 3×3) for stride-1 3×3 convolutions (any padding and dilation): the t² = (m+2)²
/// transformed products become t² sgemms of [K×C]·[C×tiles], cutting multiplies by m²·9/t²
/// (2.25× for m = 2, 4× for m = 4). Dilation d tiles each d×d phase sub-image separately, since
/// outputs y ≡ a (mod d) only read input rows ≡ a (mod d) — so dilated convs get the same saving.
final class WinogradPlan: @unchecked Sendable {   // the weights are written once, under the lock
    let m: Int
    let outChannels: Int, inChannels: Int
    let padding: Int, dilation: Int
    /// The conv's weights [K][C][3][3].
    private let weights: [Float]
    let paddedOut: Int
    /// Transformed weights packed for pw_winograd_fused: [ξ][Kp/MR][C][MR], Kp = K rounded up to MR (zero
    /// rows). Built on first float32 use.
    private var packed: [Float]? = nil
    /// The same rounded to bfloat16 pairs along C, [ξ][Kp/MR][ceil(C/2)][MR]: built on first bfloat16 use
    /// (from `packed` when it exists, else from a transient float32 copy, so bfloat16 alone holds half).
    private var packedBF16: [UInt32]? = nil
    private let lock = NSLock()

    init(m: Int, weights: [Float], outChannels: Int, inChannels: Int, padding: Int, dilation: Int) {
        precondition(m == 2 || m == 4)
        self.m = m; self.outChannels = outChannels; self.inChannels = inChannels
        self.padding = padding; self.dilation = dilation
        self.weights = weights
        paddedOut = (outChannels + blockRows - 1) / blockRows * blockRows
    }

    private var transformedCount: Int { (m + 2) * (m + 2) * paddedOut * inChannels }

    private func weightsFloat32() -> [Float] {
        lock.lock()
        defer { lock.unlock() }
        if let packed { return packed }
        let p = WeightTransforms.timed(floats: transformedCount) { transform() }
        packed = p
        return p
    }

    private func weightsBF16() -> [UInt32] {
        lock.lock()
        defer { lock.unlock() }
        if let packedBF16 { return packedBF16 }
        let panels = (m + 2) * (m + 2) * paddedOut / blockRows
        let count = Int(pw_bf16_packed_size(panels, Int32(inChannels)))
        let p = WeightTransforms.timed(floats: count) {
            let floats = packed ?? transform()
            var p = [UInt32](repeating: 0, count: count)
            floats.withUnsafeBufferPointer { fb in
                p.withUnsafeMutableBufferPointer { pw_bf16_pack_panels(fb.baseAddress!, panels, Int32(inChannels), $0.baseAddress!) }
            }
            return p
        }
        packedBF16 = p
        return p
    }

    /// G·w·Gᵀ for every (k, c), packed [ξ][Kp/MR][C][MR].
    private func transform() -> [Float] {
        let t = m + 2
        let g = (m == 2 ? WinogradPlan.g2 : WinogradPlan.g4).flatMap { $0 }   // [t][3]
        let mr = blockRows
        let kp = paddedOut
        var packed = [Float](repeating: 0, count: transformedCount)
        // Built on a layer's first call, so it is first-frame latency: split it over the engine's
        // threads by output channel (each k writes its own disjoint slots of `packed`).
        let cin = inChannels
        weights.withUnsafeBufferPointer { wb in
            let weights = wb.baseAddress!
            packed.withUnsafeMutableBufferPointer { out in
                let dst = out.baseAddress!
                parallelChunks(outChannels) { ks in
                    var gw = [Double](repeating: 0, count: t * 3)
                    for k in ks {
                        for c in 0..<cin {
                            let base = (k * cin + c) * 9
                            // G·w (t×3), then (G·w)·Gᵀ (t×t), in double so only the final rounding is float.
                            for i in 0..<t {
                                for j in 0..<3 {
                                    var acc = 0.0
                                    for q in 0..<3 { acc += g[i * 3 + q] * Double(weights[base + q * 3 + j]) }
                                    gw[i * 3 + j] = acc
                                }
                            }
                            for i in 0..<t {
                                for j in 0..<t {
                                    var v = 0.0
                                    for q in 0..<3 { v += gw[i * 3 + q] * g[j * 3 + q] }
                                    // Packed for pw_winograd_fused: [ξ][Kp/MR][C][MR].
                                    dst[(((i * t + j) * (kp / mr) + k / mr) * cin + c) * mr + k % mr] = Float(v)
                                }
                            }
                        }
                    }
                }
            }
        }
        return packed
    }

    static let g2: [[Double]] = [[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]]
    /// G for F(4×4) at the points 0, ±1/2, ±2, ∞, rows scaled to match the kernels' integer B^T rows.
    static let g4: [[Double]] = [[1.0 / 4, 0, 0], [4.0 / 15, 2.0 / 15, 1.0 / 15], [4.0 / 15, -2.0 / 15, 1.0 / 15],
                                 [1.0 / 120, 1.0 / 60, 1.0 / 30], [1.0 / 120, -1.0 / 60, 1.0 / 30], [0, 0, 1.0 / 4]]

    /// Tile origins along one axis: for each phase a < d, outputs a, a+d, … grouped m at a time.
    static func origins(extent: Int, dilation d: Int, m: Int) -> [Int32] {
        var out: [Int32] = []
        for a in 0..<min(d, extent) {
            let count = (extent - a + d - 1) / d
            for q in 0..<((count + m - 1) / m) { out.append(Int32(a + q * m * d)) }
        }
        return out
    }

    /// y[N][K][ho][wo] = conv(x) + bias (+ residual), ReLU if asked; products in `Precision.current`.
    func run(_ x: UnsafePointer<Float>, n: Int, h: Int, w: Int, ho: Int, wo: Int, bias: [Float]?,
             residual: UnsafePointer<Float>?, relu: Bool, y: UnsafeMutablePointer<Float>) {
        let t = m + 2, tt = t * t
        let oys = WinogradPlan.origins(extent: ho, dilation: dilation, m: m)
        let oxs = WinogradPlan.origins(extent: wo, dilation: dilation, m: m)
        let tiles = oys.count * oxs.count, nt = n * tiles
        let nr = blockColumns
        let ld = (nt + nr - 1) / nr * nr   // column stride: whole NR-column kernel blocks
        let c = inChannels, k = outChannels, kp = paddedOut
        let inScratch = oys.withUnsafeBufferPointer { yb in
            oxs.withUnsafeBufferPointer { xb in
                pw_winograd_input_scratch(Int32(h), Int32(w), Int32(padding), Int32(dilation), Int32(m),
                                          yb.baseAddress!, Int32(oys.count), xb.baseAddress!, Int32(oxs.count))
            }
        }
        let fusedScratch = pw_winograd_fused_scratch(Int32(m))
        oys.withUnsafeBufferPointer { yb in
            oxs.withUnsafeBufferPointer { xb in
                let oy = yb.baseAddress!, ox = xb.baseAddress!
                ScratchPool.shared.withBuffer(tt * c * ld) { v in
                    // 1. Input transform, parallel over (image, channel).
                    parallelChunks(n * c, minChunk: max(1, parallelGrain / (4 * h * w))) { r in
                        ScratchPool.shared.withBuffer(inScratch) { s in
                            pw_winograd_input(x, Int32(n), Int32(c), Int32(h), Int32(w), Int32(padding),
                                              Int32(dilation), Int32(m), oy, Int32(oys.count), ox, Int32(oxs.count),
                                              Int32(r.lowerBound), Int32(r.upperBound), v, ld, s)
                            // Zero the pad columns so the kernels never multiply stale (possibly denormal) data.
                            if ld > nt {
                                let lastBlock = (ld / nr - 1) * c * nr
                                for row in 0..<tt {
                                    for item in r where item / c == n - 1 {   // once per channel
                                        (v + row * c * ld + lastBlock + (item % c) * nr + nt % nr).update(repeating: 0, count: ld - nt)
                                    }
                                }
                            }
                        }
                    }
                    // 2. Products + output transform, fused per NR-tile block (parallel over blocks): the
                    //    t² products of a block stay in cache instead of round-tripping through memory.
                    let items = ld / nr * (kp / blockRows), itemFlops = 2 * tt * c * blockRows * nr
                    withOptionalArray(bias) { bp in
                        if Precision.current == .bfloat16 {
                            let weights = weightsBF16(), c2 = (c + 1) / 2
                            let fusedScratchBF16 = pw_bf16_winograd_fused_scratch(Int32(m))
                            ScratchPool.shared.withBuffer(tt * c2 * ld) { vf in
                                vf.withMemoryRebound(to: UInt32.self, capacity: tt * c2 * ld) { vh in
                                    // V rounded to bfloat16 pairs, parallel over (ξ, column block).
                                    parallelChunks(tt * (ld / nr), minChunk: max(1, parallelGrain / (c * nr))) { r in
                                        pw_bf16_winograd_pack_v(v, Int32(c), ld, Int32(r.lowerBound), Int32(r.upperBound), vh)
                                    }
                                    weights.withUnsafeBufferPointer { wb in
                                        parallelChunks(items, minChunk: max(1, 16 * parallelGrain / itemFlops)) { r in
                                            ScratchPool.shared.withBuffer(fusedScratchBF16) { s in
                                                pw_bf16_winograd_fused(wb.baseAddress!, vh, ld, Int32(n), Int32(c), Int32(k), Int32(kp),
                                                                       Int32(ho), Int32(wo), Int32(dilation), Int32(m), oy,
                                                                       Int32(oys.count), ox, Int32(oxs.count), bp, residual,
                                                                       relu ? 1 : 0, Int32(r.lowerBound), Int32(r.upperBound), y, s)
                                            }
                                        }
                                    }
                                }
                            }
                            return
                        }
                        // A last block of at most NR/2 tiles runs the half-width kernel, about half a whole
                        // block's work: split in half-item units so the threads finish together.
                        let narrowItems = nt % nr != 0 && nt % nr <= nr / 2 ? kp / blockRows : 0
                        let wholeItems = items - narrowItems, units = 2 * wholeItems + narrowItems
                        func item(_ unit: Int) -> Int { unit < 2 * wholeItems ? (unit + 1) / 2 : unit - wholeItems }
                        weightsFloat32().withUnsafeBufferPointer { pb in
                            parallelChunks(units, minChunk: max(1, 32 * parallelGrain / itemFlops)) { r in
                                let lo = item(r.lowerBound), hi = item(r.upperBound)
                                guard lo < hi else { return }
                                ScratchPool.shared.withBuffer(fusedScratch) { s in
                                    pw_winograd_fused(pb.baseAddress!, v, ld, Int32(n), Int32(c), Int32(k), Int32(kp),
                                                      Int32(ho), Int32(wo), Int32(dilation), Int32(m), oy,
                                                      Int32(oys.count), ox, Int32(oxs.count), bp, residual,
                                                      relu ? 1 : 0, Int32(lo), Int32(hi), y, s)
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
