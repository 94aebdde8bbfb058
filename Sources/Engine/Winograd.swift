import CBLAS
import CKernels

/// Winograd F(m×m, 3×3) for stride-1 3×3 convolutions (any padding and dilation): the t² = (m+2)²
/// transformed products become t² sgemms of [K×C]·[C×tiles], cutting multiplies by m²·9/t²
/// (2.25× for m = 2, 4× for m = 4). Dilation d tiles each d×d phase sub-image separately, since
/// outputs y ≡ a (mod d) only read input rows ≡ a (mod d) — so dilated convs get the same saving.
struct WinogradPlan {
    let m: Int
    let outChannels: Int, inChannels: Int
    let padding: Int, dilation: Int
    /// Transformed weights U[ξ][K][C], ξ < t².
    let u: [Float]

    init(m: Int, weights: [Float], outChannels: Int, inChannels: Int, padding: Int, dilation: Int) {
        precondition(m == 2 || m == 4)
        self.m = m; self.outChannels = outChannels; self.inChannels = inChannels
        self.padding = padding; self.dilation = dilation
        let t = m + 2
        let g = m == 2 ? WinogradPlan.g2 : WinogradPlan.g4
        var u = [Float](repeating: 0, count: t * t * outChannels * inChannels)
        for k in 0..<outChannels {
            for c in 0..<inChannels {
                let w = (0..<9).map { Double(weights[(k * inChannels + c) * 9 + $0]) }
                // G·w (t×3), then (G·w)·Gᵀ (t×t), in double so only the final rounding is float.
                var gw = [Double](repeating: 0, count: t * 3)
                for i in 0..<t { for j in 0..<3 { gw[i * 3 + j] = (0..<3).reduce(0) { $0 + g[i][$1] * w[$1 * 3 + j] } } }
                for i in 0..<t {
                    for j in 0..<t {
                        let v = (0..<3).reduce(0.0) { $0 + gw[i * 3 + $1] * g[j][$1] }
                        u[((i * t + j) * outChannels + k) * inChannels + c] = Float(v)
                    }
                }
            }
        }
        self.u = u
    }

    static let g2: [[Double]] = [[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]]
    static let sixth: Double = 1.0 / 6, twelfth: Double = 1.0 / 12, twentyFourth: Double = 1.0 / 24
    static let g4: [[Double]] = [[0.25, 0, 0], [-sixth, -sixth, -sixth], [-sixth, sixth, -sixth],
                                 [twentyFourth, twelfth, sixth], [twentyFourth, -twelfth, sixth], [0, 0, 1]]

    /// Tile origins along one axis: for each phase a < d, outputs a, a+d, … grouped m at a time.
    static func origins(extent: Int, dilation d: Int, m: Int) -> [Int32] {
        var out: [Int32] = []
        for a in 0..<min(d, extent) {
            let count = (extent - a + d - 1) / d
            for q in 0..<((count + m - 1) / m) { out.append(Int32(a + q * m * d)) }
        }
        return out
    }

    /// y[N][K][ho][wo] = conv(x) + bias (+ residual), ReLU if asked.
    func run(_ x: UnsafePointer<Float>, n: Int, h: Int, w: Int, ho: Int, wo: Int, bias: [Float]?,
             residual: UnsafePointer<Float>?, relu: Bool, y: UnsafeMutablePointer<Float>) {
        let t = m + 2, tt = t * t
        let oys = WinogradPlan.origins(extent: ho, dilation: dilation, m: m)
        let oxs = WinogradPlan.origins(extent: wo, dilation: dilation, m: m)
        let tiles = oys.count * oxs.count, nt = n * tiles
        let c = inChannels, k = outChannels
        let inScratch = oys.withUnsafeBufferPointer { yb in
            oxs.withUnsafeBufferPointer { xb in
                pw_winograd_input_scratch(Int32(h), Int32(w), Int32(padding), Int32(dilation), Int32(m),
                                          yb.baseAddress!, Int32(oys.count), xb.baseAddress!, Int32(oxs.count))
            }
        }
        let outScratch = (t * m + m * m) * tiles + 64
        oys.withUnsafeBufferPointer { yb in
            oxs.withUnsafeBufferPointer { xb in
                let oy = yb.baseAddress!, ox = xb.baseAddress!
                ScratchPool.shared.withBuffer(tt * c * nt) { v in
                    ScratchPool.shared.withBuffer(tt * k * nt) { mx in
                        parallelChunks(n * c) { r in
                            ScratchPool.shared.withBuffer(inScratch) { s in
                                pw_winograd_input(x, Int32(n), Int32(c), Int32(h), Int32(w), Int32(padding),
                                                  Int32(dilation), Int32(m), oy, Int32(oys.count), ox, Int32(oxs.count),
                                                  Int32(r.lowerBound), Int32(r.upperBound), v, s)
                            }
                        }
                        u.withUnsafeBufferPointer { ub in
                            for xi in 0..<tt {
                                sgemm(k, nt, c, ub.baseAddress! + xi * k * c, v + xi * c * nt, mx + xi * k * nt)
                            }
                        }
                        withOptionalArray(bias) { bp in
                            parallelChunks(n * k) { r in
                                ScratchPool.shared.withBuffer(outScratch) { s in
                                    pw_winograd_output(mx, Int32(n), Int32(k), Int32(ho), Int32(wo), Int32(dilation),
                                                       Int32(m), oy, Int32(oys.count), ox, Int32(oxs.count), bp, residual,
                                                       relu ? 1 : 0, Int32(r.lowerBound), Int32(r.upperBound), y, s)
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
