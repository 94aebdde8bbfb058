import CBLAS
import CKernels
import Dispatch
import Foundation
import Tensors

/// How Conv2d computes. `automatic` picks per call (from the input size) among im2col, F(2×2,3×3) and
/// F(4×4,3×3) for stride-1 3×3 convs with enough channels, by a flops + memory-traffic cost model.
public enum ConvAlgorithm: Sendable {
    case automatic
    /// im2col (or direct for 1×1 stride 1) + sgemm: exact to float rounding, any shape.
    case im2col
    /// Winograd F(2×2, 3×3) (stride-1 3×3, groups 1 only).
    case winograd2
    /// Winograd F(4×4, 3×3) (stride-1 3×3, groups 1 only).
    case winograd4
}

/// 2-D convolution on NCHW float32 tensors with BatchNorm folded in and a fused bias/residual/ReLU epilogue.
public final class Conv2d: @unchecked Sendable {   // immutable after init; safe to call from several threads
    public let outChannels: Int, inChannels: Int, kernelHeight: Int, kernelWidth: Int
    public let stride: Int, padding: Int, dilation: Int, groups: Int
    /// Folded weights [out][in/groups · kh · kw] (one matrix per group) and bias [out] (nil when there is
    /// neither bias nor BN).
    let matrix: GemmWeights
    var weights: [Float] { matrix.raw }
    let bias: [Float]?
    /// The algorithm asked for at init.
    public let algorithm: ConvAlgorithm
    let winogradable: Bool
    /// Winograd plans (transformed weights), built on first use: automatic convs need only the
    /// variants their input sizes select, and F(4×4) weights take 4× the memory of the kernel.
    private var plans: [Int: WinogradPlan] = [:]
    private let plansLock = NSLock()

    public init(weight: Tensor, bias: Tensor?, stride: Int = 1, padding: Int = 0, dilation: Int = 1,
                groups: Int = 1, batchNorm: BatchNorm? = nil, algorithm: ConvAlgorithm = .automatic) {
        precondition(weight.rank == 4, "Conv2d weight must be [out, in/groups, kh, kw], got \(weight.shape)")
        precondition(stride >= 1 && padding >= 0 && dilation >= 1 && groups >= 1, "Conv2d: bad stride/padding/dilation/groups")
        let out = weight.shape[0]
        precondition(out % groups == 0, "Conv2d: \(out) output channels not divisible by \(groups) groups")
        outChannels = out
        inChannels = weight.shape[1] * groups
        kernelHeight = weight.shape[2]; kernelWidth = weight.shape[3]
        self.stride = stride; self.padding = padding; self.dilation = dilation; self.groups = groups
        if let bias { precondition(bias.count == out, "Conv2d bias has \(bias.count) values for \(out) channels") }
        var w = weight.storage
        var b = bias?.storage
        if let bn = batchNorm {
            precondition(bn.weight.count == out, "BatchNorm has \(bn.weight.count) channels, conv has \(out)")
            let (scale, shift) = bn.scaleShift()
            let perOut = w.count / out
            for o in 0..<out {
                for i in 0..<perOut { w[o * perOut + i] *= scale[o] }
            }
            var folded = [Float](repeating: 0, count: out)
            for o in 0..<out { folded[o] = (b?[o] ?? 0) * scale[o] + shift[o] }
            b = folded
        }
        matrix = GemmWeights(w, groups: groups, rows: out / groups, depth: w.count / out)
        self.bias = b
        winogradable = kernelHeight == 3 && kernelWidth == 3 && stride == 1 && groups == 1
        if algorithm == .winograd2 || algorithm == .winograd4 {
            precondition(winogradable, "Conv2d: Winograd needs a stride-1 3×3 kernel with groups 1")
        }
        self.algorithm = algorithm
    }

    /// Below this many channels the transforms cost more than the multiplies they save.
    static let winogradMinChannels = 16

    private func plan(_ m: Int) -> WinogradPlan {
        plansLock.lock()
        defer { plansLock.unlock() }
        if let p = plans[m] { return p }
        // The transformed weights are built (and timed) on first use, per precision.
        let p = WinogradPlan(m: m, weights: weights, outChannels: outChannels, inChannels: inChannels,
                             padding: padding, dilation: dilation)
        plans[m] = p
        return p
    }

    /// The algorithm a call on an n×C×h×w input uses.
    public func algorithm(batch n: Int, outHeight ho: Int, outWidth wo: Int) -> ConvAlgorithm {
        if algorithm != .automatic { return algorithm }
        guard winogradable, inChannels >= Conv2d.winogradMinChannels, outChannels >= Conv2d.winogradMinChannels else {
            return .im2col
        }
        // Seconds on one core: multiplies at ~100 GFLOP/s, memory traffic (weights, columns / transformed
        // tiles written then read) at ~10 GB/s, Winograd transforms at ~20 GB/s-equivalent. Crude, but it
        // captures the two effects that matter: small images pad the tile count up to 32-column blocks,
        // and F(4×4) weights are 4× larger (costly when there are few tiles to reuse them on).
        let c = Double(inChannels), k = Double(outChannels)
        let im2col = 2 * 9 * c * k * Double(n * ho * wo) / 90e9
            + 4 * (9 * c * k + 2 * 9 * c * Double(n * ho * wo) + k * Double(n * ho * wo)) / 10e9
        func winograd(_ m: Int) -> Double {
            let t = Double(m + 2)
            let tiles = WinogradPlan.origins(extent: ho, dilation: dilation, m: m).count
                * WinogradPlan.origins(extent: wo, dilation: dilation, m: m).count * n
            let ld = Double((tiles + blockColumns - 1) / blockColumns * blockColumns)
            let kp = Double((outChannels + blockRows - 1) / blockRows * blockRows)
            return 2 * t * t * kp * c * ld / 100e9 + 4 * t * t * (kp * c + 2 * (c + kp) * ld) / 10e9
                + t * t * (c + k) * ld * 8 / 20e9
        }
        let w2 = winograd(2), w4 = winograd(4)
        if im2col <= w2 && im2col <= w4 { return .im2col }
        return w4 <= w2 ? .winograd4 : .winograd2
    }

    /// Output spatial size for an input of h×w.
    public func outputSize(height h: Int, width w: Int) -> (height: Int, width: Int) {
        ((h + 2 * padding - dilation * (kernelHeight - 1) - 1) / stride + 1,
         (w + 2 * padding - dilation * (kernelWidth - 1) - 1) / stride + 1)
    }

    /// y = conv(x) (+bias, BN folded) (+ residual) then ReLU if asked; x is [N, C, H, W]. The
    /// algorithm is chosen for a batch of `planBatch` (default N): a caller batching several calls'
    /// inputs passes the batch of one call and gets the same bits.
    public func callAsFunction(_ x: Tensor, residual: Tensor? = nil, relu: Bool = false, planBatch: Int? = nil) -> Tensor {
        precondition(x.rank == 4 && x.shape[1] == inChannels, "Conv2d expects [N, \(inChannels), H, W], got \(x.shape)")
        let n = x.shape[0], h = x.shape[2], w = x.shape[3]
        let (ho, wo) = outputSize(height: h, width: w)
        precondition(ho > 0 && wo > 0, "Conv2d: input \(h)×\(w) too small for the kernel")
        let outShape = [n, outChannels, ho, wo]
        if let residual { precondition(residual.shape == outShape, "Conv2d residual \(residual.shape) != output \(outShape)") }
        return LayerProfile.measure(profileKey(n: planBatch ?? n, ho: ho, wo: wo),
                                    macs: n * outChannels * ho * wo * (inChannels / groups) * kernelHeight * kernelWidth) {
            Tensor(shape: outShape, unsafeUninitialized: { y in
                x.withUnsafeBufferPointer { xb in
                    withOptionalPointer(residual) { rp in
                        let chosen = algorithm(batch: planBatch ?? n, outHeight: ho, outWidth: wo)
                        if chosen != .im2col {
                            plan(chosen == .winograd2 ? 2 : 4).run(xb.baseAddress!, n: n, h: h, w: w, ho: ho, wo: wo, bias: bias, residual: rp,
                                         relu: relu, y: y.baseAddress!)
                            return
                        }
                        // Several images per product where the engine's kernels run it: narrow planes (HRNet's
                        // low-resolution branches) then fill whole column blocks and threads, with the same bits.
                        let plane = ho * wo
                        let perCall = matrix.batchesImages(n: plane)
                            ? max(1, min(n, Conv2d.batchColumnFloats / max(1, columnRows * plane))) : 1
                        for i in Swift.stride(from: 0, to: n, by: perCall) {
                            forwardImages(xb.baseAddress! + i * inChannels * h * w, min(perCall, n - i), h, w,
                                          y.baseAddress! + i * outChannels * plane, ho, wo,
                                          rp.map { $0 + i * outChannels * plane }, relu)
                        }
                    }
                }
            })
        }
    }

    /// "3×3/1 48→48 96×72 winograd4": the shape and algorithm a profile groups calls by.
    private func profileKey(n: Int, ho: Int, wo: Int) -> String {
        let alg: String
        switch algorithm(batch: n, outHeight: ho, outWidth: wo) {
        case .winograd2: alg = "winograd2"
        case .winograd4: alg = "winograd4"
        default: alg = kernelHeight == 1 && kernelWidth == 1 && stride == 1 && padding == 0 ? "gemm" : "im2col"
        }
        let dil = dilation == 1 ? "" : " d\(dilation)"
        return "\(kernelHeight)×\(kernelWidth)/\(stride)\(dil) \(inChannels)→\(outChannels) \(ho)×\(wo) \(alg)"
    }

    /// Rows of one image's im2col matrix (0 for the direct 1×1 path, which needs none).
    private var columnRows: Int {
        kernelHeight == 1 && kernelWidth == 1 && stride == 1 && padding == 0 ? 0 : inChannels * kernelHeight * kernelWidth
    }

    /// Im2col floats one product may gather over its images (bounds the scratch of a batch).
    static let batchColumnFloats = 4 << 20

    /// `images` consecutive images of x (one product when more than one) into y.
    private func forwardImages(_ x: UnsafePointer<Float>, _ images: Int, _ h: Int, _ w: Int, _ y: UnsafeMutablePointer<Float>,
                               _ ho: Int, _ wo: Int, _ residual: UnsafePointer<Float>?, _ relu: Bool) {
        let plane = ho * wo
        let rowsPerImage = columnRows
        withOptionalArray(bias) { bp in
            if rowsPerImage == 0 {
                // x is already the [C][plane] matrix of every group.
                matrix.apply(x, n: plane, images: images, bImage: inChannels * h * w, yImage: outChannels * plane,
                             bias: bp, residual: residual, relu: relu, y: y)
                return
            }
            // The columns gathered block by block inside the product where its kernels can (no pass over
            // all of them through memory); written out first otherwise.
            let input = pw_conv_input(x: x, C: Int32(inChannels), H: Int32(h), W: Int32(w),
                                      kh: Int32(kernelHeight), kw: Int32(kernelWidth), sh: Int32(stride), sw: Int32(stride),
                                      ph: Int32(padding), pw: Int32(padding), dh: Int32(dilation), dw: Int32(dilation),
                                      Ho: Int32(ho), Wo: Int32(wo))
            if matrix.applyConvolution(input, images: images, yImage: outChannels * plane, bias: bp, residual: residual,
                                       relu: relu, y: y) {
                return
            }
            let taps = kernelHeight * kernelWidth
            ScratchPool.shared.withBuffer(images * rowsPerImage * plane) { cols in
                // Rows of all groups at once: group g's rows start at g·k, which is channel g·cinG's row.
                parallelChunks(images * inChannels, minChunk: max(1, parallelGrain / (taps * plane))) { r in
                    var item = r.lowerBound
                    while item < r.upperBound {
                        let image = item / inChannels, c0 = item % inChannels
                        let c1 = min(inChannels, c0 + r.upperBound - item)
                        pw_im2col(x + image * inChannels * h * w, Int32(h), Int32(w), Int32(kernelHeight), Int32(kernelWidth),
                                  Int32(stride), Int32(stride), Int32(padding), Int32(padding),
                                  Int32(dilation), Int32(dilation), Int32(ho), Int32(wo),
                                  Int32(c0), Int32(c1), cols + image * rowsPerImage * plane)
                        item += c1 - c0
                    }
                }
                matrix.apply(cols, n: plane, images: images, bImage: rowsPerImage * plane, yImage: outChannels * plane,
                             bias: bp, residual: residual, relu: relu, y: y)
            }
        }
    }
}

extension Conv2d {
    /// Whether a call on [n, C, h, w] (`planBatch` as in callAsFunction) runs as a gathered engine
    /// product (not Winograd, the direct 1×1 product, OpenBLAS, bfloat16 or groups): the case that
    /// kernels consuming its output can fuse it into with the same bits.
    func runsAsGatheredProduct(n: Int, h: Int, w: Int, planBatch: Int?) -> Bool {
        let (ho, wo) = outputSize(height: h, width: w)
        return ho > 0 && wo > 0 && columnRows != 0 && groups == 1 && kernelWidth <= PW_CONV_MAX_KW
            && Precision.current == .float32 && GemmBackend.choose(columns: ho * wo) == .engine
            && algorithm(batch: planBatch ?? n, outHeight: ho, outWidth: wo) == .im2col
    }

    /// body(input, packed weights, bias) with this convolution of x as that gathered product; nil
    /// (body not run) where `runsAsGatheredProduct` is false.
    func withGatheredProduct<R>(_ x: UnsafePointer<Float>, n: Int, h: Int, w: Int, planBatch: Int?,
                                _ body: (pw_conv_input, UnsafePointer<Float>, UnsafePointer<Float>?) -> R) -> R? {
        guard runsAsGatheredProduct(n: n, h: h, w: w, planBatch: planBatch) else { return nil }
        let (ho, wo) = outputSize(height: h, width: w)
        let input = pw_conv_input(x: x, C: Int32(inChannels), H: Int32(h), W: Int32(w),
                                  kh: Int32(kernelHeight), kw: Int32(kernelWidth), sh: Int32(stride), sw: Int32(stride),
                                  ph: Int32(padding), pw: Int32(padding), dh: Int32(dilation), dw: Int32(dilation),
                                  Ho: Int32(ho), Wo: Int32(wo))
        let packed = matrix.packedWeights()
        return packed.withUnsafeBufferPointer { pb in withOptionalArray(bias) { body(input, pb.baseAddress!, $0) } }
    }
}

/// C[m×n] = A[m×k] · B[k×n], row-major, contiguous; split over the engine's threads by column
/// slices (multiples of 64), each a single-threaded OpenBLAS call (see EngineThreads).
func sgemm(_ m: Int, _ n: Int, _ k: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>) {
    let threads = EngineThreads.count   // also applies the default on first use
    // Small products are not worth waking a second thread for.
    let slices = 2 * m * n * k < 4_000_000 ? 1 : min(threads, max(1, n / 64))
    if slices <= 1 {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k), 1, a, Int32(k), b, Int32(n), 0, c, Int32(n))
        return
    }
    let blocks = (n + 63) / 64
    performChunks(slices, threads: threads) { s in
        let lo = min(n, blocks * s / slices * 64), hi = min(n, blocks * (s + 1) / slices * 64)
        if lo < hi {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(hi - lo), Int32(k), 1, a, Int32(k),
                        b + lo, Int32(n), 0, c + lo, Int32(n))
        }
    }
}

/// Adds bias and residual, then ReLU, over channels in parallel.
func applyEpilogue(_ y: UnsafeMutablePointer<Float>, _ bias: UnsafePointer<Float>?, _ residual: UnsafePointer<Float>?,
                   channels: Int, plane: Int, relu: Bool) {
    if bias == nil && residual == nil && !relu { return }
    parallelChunks(channels, minChunk: max(1, 16384 / max(plane, 1))) { r in
        pw_epilogue(y, bias, residual, Int32(plane), Int32(r.lowerBound), Int32(r.upperBound), relu ? 1 : 0)
    }
}

@inline(__always)
func withOptionalPointer<R>(_ t: Tensor?, _ body: (UnsafePointer<Float>?) -> R) -> R {
    if let t { return t.withUnsafeBufferPointer { body($0.baseAddress!) } }
    return body(nil)
}

@inline(__always)
func withOptionalArray<R>(_ a: [Float]?, _ body: (UnsafePointer<Float>?) -> R) -> R {
    if let a { return a.withUnsafeBufferPointer { body($0.baseAddress!) } }
    return body(nil)
}
