import CBLAS
import CKernels
import Foundation

/// Rows × columns of the C kernels' register block (PW_GEMM_MR × PW_GEMM_NR in CKernels.h): packed
/// layouts built in Swift use these, never their own numbers.
let blockRows = Int(PW_GEMM_MR), blockColumns = Int(PW_GEMM_NR)

/// Which matrix product the 1×1, im2col and deformable convolutions run on.
enum GemmBackend {
    /// pw_gemm: the active tier's register-blocked kernels, split over the engine's threads.
    case engine
    /// OpenBLAS sgemm (single-threaded calls split over the engine's threads by columns).
    case openBLAS

    /// The product for a rows × columns result over `depth`: a fixed rule of the machine and the shape, so
    /// a layer always takes the same path (bit-identical results run to run).
    /// - The engine's kernels on the AVX2 and AVX-512 tiers, whatever CPU model the BLAS release knows
    ///   (OpenBLAS 0.3.21 runs SSE3 "Prescott" kernels on CPUs it does not know: 3–7× slower).
    /// - OpenBLAS when its kernels are tuned for this CPU and the product is wide (≥ 4096 columns: 96×72
    ///   planes and up), where they measured 10–25% faster on a Zen 4 (Cooperlake kernels); on narrower
    ///   products the engine's split over its threads wins (OpenBLAS slices columns by 64s, so a 12×9
    ///   plane runs on one thread).
    /// - OpenBLAS on the portable tier (its per-architecture kernels beat plain C there).
    /// `PW_GEMM=openblas` or `PW_GEMM=engine` forces one, to compare the two on one binary.
    static func choose(columns: Int) -> GemmBackend {
        switch forced {
        case .some(let backend): return backend
        case .none:
            if KernelTier.active == .portable { return .openBLAS }
            return blasTunedForCPU && columns >= 4096 ? .openBLAS : .engine
        }
    }

    /// What `choose` picks for wide products, for reports.
    static var current: GemmBackend { choose(columns: .max) }

    private static let forced: GemmBackend? = {
        switch ProcessInfo.processInfo.environment["PW_GEMM"]?.lowercased() {
        case "openblas": return .openBLAS
        case "engine": return .engine
        default: return nil
        }
    }()

    /// OpenBLAS kernel families written for AVX2 / AVX-512 (anything else is an older fallback).
    private static let blasTunedForCPU: Bool = {
        let tuned = ["haswell", "zen", "skylakex", "cooperlake", "sapphirerapids"]
        return tuned.contains(blasCoreName.lowercased())
    }()
}

/// Weights of a convolution as matrices, one [rows][depth] row-major block per group, packed into the
/// kernels' MR-row panels on first use (Winograd-only layers never need the packed copy).
final class GemmWeights: @unchecked Sendable {   // `packed` is written once under the lock
    let groups: Int, rows: Int, depth: Int
    /// [groups · rows][depth], row-major.
    let raw: [Float]
    private var packed: [Float]? = nil
    /// The packed panels rounded to bfloat16 pairs, built on first bfloat16 use.
    private var packedBF16: [UInt32]? = nil
    private let lock = NSLock()

    init(_ raw: [Float], groups: Int, rows: Int, depth: Int) {
        precondition(raw.count == groups * rows * depth, "GemmWeights: \(raw.count) values for \(groups)×\(rows)×\(depth)")
        self.raw = raw; self.groups = groups; self.rows = rows; self.depth = depth
    }

    private var packedPerGroup: Int { Int(pw_gemm_packed_size(Int32(rows), Int32(depth))) }

    func packedWeights() -> [Float] {
        lock.lock()
        defer { lock.unlock() }
        if let packed { return packed }
        let p = WeightTransforms.timed(floats: groups * packedPerGroup) { packFloat32() }
        packed = p
        return p
    }

    private func packFloat32() -> [Float] {
        let per = packedPerGroup
        var p = [Float](repeating: 0, count: groups * per)
        raw.withUnsafeBufferPointer { rb in
            p.withUnsafeMutableBufferPointer { pb in
                for g in 0..<groups {
                    pw_gemm_pack_a(rb.baseAddress! + g * rows * depth, Int32(rows), Int32(depth), depth, pb.baseAddress! + g * per)
                }
            }
        }
        return p
    }

    private var panels: Int { (rows + blockRows - 1) / blockRows }

    /// [groups][panels][ceil(depth/2)][MR] bfloat16 pairs.
    private func packedWeightsBF16() -> [UInt32] {
        lock.lock()
        defer { lock.unlock() }
        if let packedBF16 { return packedBF16 }
        let per = Int(pw_bf16_packed_size(panels, Int32(depth)))
        let p = WeightTransforms.timed(floats: groups * per) {
            // From the float32 panels, kept only if float32 products built them (bfloat16 alone keeps none).
            let floats = packed ?? packFloat32()
            var p = [UInt32](repeating: 0, count: groups * per)
            floats.withUnsafeBufferPointer { fb in
                p.withUnsafeMutableBufferPointer { pb in
                    pw_bf16_pack_panels(fb.baseAddress!, groups * panels, Int32(depth), pb.baseAddress!)
                }
            }
            return p
        }
        packedBF16 = p
        return p
    }

    /// Whether `apply` takes several images at once for products n columns wide (the engine's kernels;
    /// OpenBLAS runs one image per call).
    func batchesImages(n: Int) -> Bool { Precision.current == .bfloat16 || GemmBackend.choose(columns: n) == .engine }

    /// y[g·rows + r][j] = Σ_k W_g[r][k] · b[g·depth + k][j] for j < n (b and y row-major with row length
    /// n), then + bias[row], + residual (laid out like y), ReLU if asked. With `images` > 1 (only where
    /// `batchesImages`), image i's b starts at b + i·bImage and its y and residual at + i·yImage.
    func apply(_ b: UnsafePointer<Float>, n: Int, images: Int = 1, bImage: Int = 0, yImage: Int = 0,
               bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?, relu: Bool, y: UnsafeMutablePointer<Float>) {
        if Precision.current == .bfloat16 {
            let p = packedWeightsBF16(), per = Int(pw_bf16_packed_size(panels, Int32(depth)))
            p.withUnsafeBufferPointer { pb in
                for g in 0..<groups {
                    gemmBF16(pb.baseAddress! + g * per, rows: rows, depth: depth, b + g * depth * n, ldb: n, n: n,
                             images: images, bImage: bImage, cImage: yImage,
                             bias: bias.map { $0 + g * rows }, residual: residual.map { $0 + g * rows * n }, relu: relu,
                             c: y + g * rows * n, ldc: n)
                }
            }
            return
        }
        switch GemmBackend.choose(columns: n) {
        case .engine:
            let p = packedWeights(), per = packedPerGroup
            p.withUnsafeBufferPointer { pb in
                for g in 0..<groups {
                    gemm(pb.baseAddress! + g * per, rows: rows, depth: depth, b + g * depth * n, ldb: n, n: n,
                         images: images, bImage: bImage, cImage: yImage,
                         bias: bias.map { $0 + g * rows }, residual: residual.map { $0 + g * rows * n }, relu: relu,
                         c: y + g * rows * n, ldc: n)
                }
            }
        case .openBLAS:
            precondition(images == 1, "GemmWeights.apply: OpenBLAS products take one image per call")
            raw.withUnsafeBufferPointer { wb in
                for g in 0..<groups {
                    sgemm(rows, n, depth, wb.baseAddress! + g * rows * depth, b + g * depth * n, y + g * rows * n)
                }
            }
            applyEpilogue(y, bias, residual, channels: groups * rows, plane: n, relu: relu)
        }
    }
}

extension GemmWeights {
    /// `apply` on a convolution's im2col matrix (pw_conv_input), each column block gathered from the input
    /// as the product runs instead of written out first: the same bits. Only for groups 1 on the engine's
    /// float32 kernels; returns false (doing nothing) elsewhere.
    func applyConvolution(_ input: pw_conv_input, images: Int, yImage: Int, bias: UnsafePointer<Float>?,
                          residual: UnsafePointer<Float>?, relu: Bool, y: UnsafeMutablePointer<Float>) -> Bool {
        let n = Int(input.Ho) * Int(input.Wo)
        guard groups == 1, input.kw <= PW_CONV_MAX_KW, Int(input.C * input.kh * input.kw) == depth,
              Precision.current == .float32, GemmBackend.choose(columns: n) == .engine else { return false }
        let p = packedWeights()
        p.withUnsafeBufferPointer { pb in
            withUnsafePointer(to: input) { conv in
                let a = pb.baseAddress!, m = Int32(rows)
                splitProduct(rows: rows, depth: depth, columns: images * n, scratch: Int(pw_gemm_scratch(Int32(depth)))) { rowGroups, r, s in
                    pw_conv_gemm_images(a, conv, m, Int32(images), bias, residual, relu ? 1 : 0, y, n, yImage,
                                        Int32(rowGroups), Int32(r.lowerBound), Int32(r.upperBound), s)
                }
            }
        }
        return true
    }
}

/// c (rows × n, row stride ldc) = packed a (rows × depth, from pw_gemm_pack_a) · b (depth × n, row stride
/// ldb) (+bias[row]) (+residual, laid out like c) (ReLU), split over the engine's threads. The split
/// only decides which thread computes which block: results are the same at any thread count.
/// `images` > 1 runs that many such products side by side as one (image i's b at b + i·bImage, its c
/// and residual at + i·cImage): narrow products fill whole column blocks, with the same bits.
func gemm(_ a: UnsafePointer<Float>, rows: Int, depth: Int, _ b: UnsafePointer<Float>, ldb: Int, n: Int,
          images: Int = 1, bImage: Int = 0, cImage: Int = 0,
          bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?, relu: Bool,
          c: UnsafeMutablePointer<Float>, ldc: Int) {
    splitProduct(rows: rows, depth: depth, columns: images * n, scratch: Int(pw_gemm_scratch(Int32(depth)))) { rowGroups, r, s in
        pw_gemm_images(a, b, ldb, bImage, Int32(rows), Int32(images), Int32(n), Int32(depth), bias, residual,
                       relu ? 1 : 0, c, ldc, cImage, Int32(rowGroups), Int32(r.lowerBound), Int32(r.upperBound), s)
    }
}

/// `gemm` on bfloat16: a packed by pw_bf16_pack_panels, b rounded to bfloat16 as it is packed (approximate;
/// the same split over threads and the same independence of the thread count).
func gemmBF16(_ a: UnsafePointer<UInt32>, rows: Int, depth: Int, _ b: UnsafePointer<Float>, ldb: Int, n: Int,
              images: Int = 1, bImage: Int = 0, cImage: Int = 0,
              bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?, relu: Bool,
              c: UnsafeMutablePointer<Float>, ldc: Int) {
    splitProduct(rows: rows, depth: depth, columns: images * n, scratch: Int(pw_bf16_gemm_scratch(Int32(depth)))) { rowGroups, r, s in
        pw_bf16_gemm_images(a, b, ldb, bImage, Int32(rows), Int32(images), Int32(n), Int32(depth), bias, residual,
                            relu ? 1 : 0, c, ldc, cImage, Int32(rowGroups), Int32(r.lowerBound), Int32(r.upperBound), s)
    }
}

/// Runs a product's work items (column blocks × row groups, as pw_gemm_images numbers them) over the
/// engine's threads: run(rowGroups, items, scratch) with `scratch` floats per call.
private func splitProduct(rows: Int, depth: Int, columns: Int, scratch: Int,
                          _ run: @escaping (Int, Range<Int>, UnsafeMutablePointer<Float>) -> Void) {
    let columnBlocks = (columns + blockColumns - 1) / blockColumns
    let panels = (rows + blockRows - 1) / blockRows
    // Small products are not worth waking a second thread for (dispatch costs tens of microseconds).
    let threads = 2 * rows * columns * depth < 64 * parallelGrain ? 1 : EngineThreads.count
    // Column blocks are the natural unit (each packs its B panel once and runs every row panel on it);
    // split row panels too when there are too few column blocks to keep every thread busy.
    let rowGroups = columnBlocks >= 4 * threads ? 1 : min(panels, (4 * threads + columnBlocks - 1) / columnBlocks)
    let items = columnBlocks * rowGroups
    let body: (Range<Int>) -> Void = { r in ScratchPool.shared.withBuffer(scratch) { s in run(rowGroups, r, s) } }
    if threads == 1 { body(0..<items) } else { parallelChunks(items, body) }
}

/// The same product on row-major a (rows × depth), packing it first: for one-off products (tests, bench).
func gemm(rowMajor a: UnsafePointer<Float>, rows: Int, depth: Int, _ b: UnsafePointer<Float>, ldb: Int, n: Int,
          bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?, relu: Bool,
          c: UnsafeMutablePointer<Float>, ldc: Int) {
    let packed = UnsafeMutablePointer<Float>.allocate(capacity: Int(pw_gemm_packed_size(Int32(rows), Int32(depth))))
    defer { packed.deallocate() }
    pw_gemm_pack_a(a, Int32(rows), Int32(depth), depth, packed)
    if Precision.current == .bfloat16 {
        let panels = (rows + blockRows - 1) / blockRows
        var pairs = [UInt32](repeating: 0, count: Int(pw_bf16_packed_size(panels, Int32(depth))))
        pairs.withUnsafeMutableBufferPointer { pw_bf16_pack_panels(packed, panels, Int32(depth), $0.baseAddress!) }
        pairs.withUnsafeBufferPointer {
            gemmBF16($0.baseAddress!, rows: rows, depth: depth, b, ldb: ldb, n: n, bias: bias, residual: residual,
                     relu: relu, c: c, ldc: ldc)
        }
        return
    }
    gemm(packed, rows: rows, depth: depth, b, ldb: ldb, n: n, bias: bias, residual: residual, relu: relu, c: c, ldc: ldc)
}

/// The products the convolutions use ("engine kernels, AVX-512" and/or "OpenBLAS"), for reports.
public var convolutionGemmName: String {
    let narrow = GemmBackend.choose(columns: 1), wide = GemmBackend.choose(columns: .max)
    let engine = "engine kernels, \(KernelTier.active.name)"
    if narrow == wide { return narrow == .engine ? engine : "OpenBLAS" }
    return "\(engine) (OpenBLAS for ≥ 4096 columns)"
}
