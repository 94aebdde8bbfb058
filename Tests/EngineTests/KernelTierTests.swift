@testable import Engine
import CKernels
import Foundation
import Tensors
import XCTest

/// Every kernel tier this CPU supports (portable C, AVX2+FMA, AVX-512), forced one after another in one
/// process, against the portable tier and against float64 references.
final class KernelTierTests: XCTestCase {
    override class func setUp() {
        super.setUp()
        print("CPU: \(cpuDescription); kernel tiers: \(KernelTier.supported.map(\.name)); active \(KernelTier.active.name)")
    }

    private func random(_ count: Int, seed: UInt64) -> [Float] {
        var state = seed &* 6364136223846793005 &+ 1442695040888963407
        return (0..<count).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(state >> 40) / Float(1 << 23) - 1
        }
    }

    func testTierSelection() {
        let supported = KernelTier.supported
        XCTAssertEqual(supported.first, .portable)
        XCTAssertLessThanOrEqual(KernelTier.active, supported.last!)
        for tier in supported { XCTAssertEqual(KernelTier.with(tier) { KernelTier.active }, tier) }
        // Asking for more than the CPU has gives the best it has.
        XCTAssertEqual(KernelTier.with(.avx512) { KernelTier.active }, supported.last!)
        #if arch(x86_64)
        // The machines this project runs on all have AVX2+FMA; a detection bug must not silently fall back.
        XCTAssertGreaterThanOrEqual(supported.last!, .avx2, "cpuid/xgetbv found no AVX2+FMA: \(cpuDescription)")
        #endif
    }

    /// C = A·B + bias + residual, ReLU, on odd shapes (edges in both block directions, K = 1, strides
    /// wider than the matrix), every tier against a float64 reference and against the portable tier.
    func testGemmEveryTierMatchesReference() {
        let shapes: [(m: Int, n: Int, k: Int)] = [(1, 1, 1), (12, 32, 7), (13, 37, 5), (25, 65, 129), (17, 100, 153),
                                                  (50, 333, 300), (3, 1000, 2)]
        for (si, s) in shapes.enumerated() {
            let ldb = s.n + 3, ldc = s.n + 5
            let a = random(s.m * s.k, seed: UInt64(si)), b = random(s.k * ldb, seed: UInt64(100 + si))
            let bias = random(s.m, seed: UInt64(200 + si)), residual = random(s.m * ldc, seed: UInt64(300 + si))
            for variant in 0..<2 {
                let relu = variant == 1, useBias = variant == 1, useResidual = variant == 1
                var reference = [Double](repeating: 0, count: s.m * s.n)
                for i in 0..<s.m {
                    for j in 0..<s.n {
                        var v = 0.0
                        for q in 0..<s.k { v += Double(a[i * s.k + q]) * Double(b[q * ldb + j]) }
                        if useBias { v += Double(bias[i]) }
                        if useResidual { v += Double(residual[i * ldc + j]) }
                        reference[i * s.n + j] = relu ? max(v, 0) : v
                    }
                }
                var portable: [Float] = []
                for tier in KernelTier.supported {
                    var c = [Float](repeating: .nan, count: s.m * ldc)
                    KernelTier.with(tier) {
                        a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in
                            bias.withUnsafeBufferPointer { biasp in residual.withUnsafeBufferPointer { rp in
                                c.withUnsafeMutableBufferPointer { cp in
                                    gemm(rowMajor: ap.baseAddress!, rows: s.m, depth: s.k, bp.baseAddress!, ldb: ldb, n: s.n,
                                         bias: useBias ? biasp.baseAddress! : nil, residual: useResidual ? rp.baseAddress! : nil,
                                         relu: relu, c: cp.baseAddress!, ldc: ldc)
                                }
                            } }
                        } }
                    }
                    let label = "gemm \(s.m)×\(s.n)×\(s.k) variant \(variant) \(tier.name)"
                    var dense = [Float](), err = 0.0, norm = 0.0, maxAbs = 0.0
                    for i in 0..<s.m {
                        for j in 0..<s.n {
                            let v = c[i * ldc + j], r = reference[i * s.n + j]
                            XCTAssertFalse(v.isNaN, "\(label): NaN at \(i),\(j)")
                            dense.append(v)
                            err += (Double(v) - r) * (Double(v) - r); norm += r * r
                            maxAbs = max(maxAbs, abs(Double(v) - r))
                        }
                        // Columns past n are the caller's: never written.
                        for j in s.n..<ldc { XCTAssertTrue(c[i * ldc + j].isNaN, "\(label): wrote past n at \(i),\(j)") }
                    }
                    XCTAssertLessThanOrEqual((err / max(norm, 1e-30)).squareRoot(), 1e-6, label)
                    XCTAssertLessThanOrEqual(maxAbs, 1e-5 * Double(s.k).squareRoot(), label)
                    if tier == .portable { portable = dense } else {
                        let d = TensorDifference(Tensor(shape: [dense.count], storage: dense),
                                                 reference: Tensor(shape: [portable.count], storage: portable))
                        XCTAssertLessThanOrEqual(d.relativeL2, 1e-6, "\(label) vs portable: \(d)")
                    }
                }
            }
        }
    }

    /// The engine GEMM gives bit-identical results at 1, 2 and 3 threads (and run to run) on every tier.
    func testGemmBitIdenticalAtAnyThreadCount() {
        let m = 50, n = 2000, k = 300   // large enough to be split over threads in both directions
        let a = random(m * k, seed: 1), b = random(k * n, seed: 2), bias = random(m, seed: 3)
        defer { EngineThreads.set(ProcessInfo.processInfo.activeProcessorCount) }
        for tier in KernelTier.supported {
            var results: [[Float]] = []
            for threads in [1, 2, 3, 2] {
                EngineThreads.set(threads)
                var c = [Float](repeating: 0, count: m * n)
                KernelTier.with(tier) {
                    a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in bias.withUnsafeBufferPointer { biasp in
                        c.withUnsafeMutableBufferPointer { cp in
                            gemm(rowMajor: ap.baseAddress!, rows: m, depth: k, bp.baseAddress!, ldb: n, n: n,
                                 bias: biasp.baseAddress!, residual: nil, relu: true, c: cp.baseAddress!, ldc: n)
                        }
                    } } }
                }
                results.append(c)
            }
            for r in results.dropFirst() { XCTAssertTrue(r == results[0], "\(tier.name): results differ between thread counts") }
        }
    }

    /// The convolution product that gathers each column block from the input (pw_conv_gemm_images) gives
    /// exactly the bits of pw_im2col's columns through pw_gemm_images, on every tier, over strides 1–3,
    /// padding, dilation, several images, edge blocks and both work splits.
    func testGatheredConvolutionMatchesIm2colBitForBit() {
        // C, M, H, W, kernel, stride, padding, dilation, images
        let shapes = [(5, 13, 19, 23, 3, 2, 1, 1, 3), (3, 20, 31, 29, 7, 2, 3, 1, 2), (8, 25, 11, 9, 3, 1, 2, 2, 4),
                      (4, 12, 9, 8, 3, 3, 1, 1, 2), (6, 30, 17, 18, 2, 2, 0, 1, 3), (16, 24, 40, 36, 3, 2, 1, 1, 1)]
        for (si, sh) in shapes.enumerated() {
            let (c, m, h, w, k, s, p, d, images) = sh
            let ho = (h + 2 * p - d * (k - 1) - 1) / s + 1, wo = (w + 2 * p - d * (k - 1) - 1) / s + 1, plane = ho * wo
            let depth = c * k * k, n = images * plane
            let x = random(images * c * h * w, seed: UInt64(10 + si)), a = random(m * depth, seed: UInt64(20 + si))
            let bias = random(m, seed: UInt64(30 + si)), residual = random(m * n, seed: UInt64(40 + si))
            var packed = [Float](repeating: 0, count: Int(pw_gemm_packed_size(Int32(m), Int32(depth))))
            pw_gemm_pack_a(a, Int32(m), Int32(depth), depth, &packed)
            var cols = [Float](repeating: 0, count: depth * n)
            for i in 0..<images {
                x.withUnsafeBufferPointer { xp in cols.withUnsafeMutableBufferPointer { cp in
                    pw_im2col(xp.baseAddress! + i * c * h * w, Int32(h), Int32(w), Int32(k), Int32(k), Int32(s), Int32(s),
                              Int32(p), Int32(p), Int32(d), Int32(d), Int32(ho), Int32(wo), 0, Int32(c),
                              cp.baseAddress! + i * depth * plane)
                } }
            }
            var scratch = [Float](repeating: 0, count: Int(pw_gemm_scratch(Int32(depth))))
            let blocks = (n + blockColumns - 1) / blockColumns
            for tier in KernelTier.supported {
                for rowGroups in [1, 2] {
                    let withResidual = rowGroups == 2
                    var expected = [Float](repeating: 0, count: m * n), gathered = expected
                    KernelTier.with(tier) {
                        residual.withUnsafeBufferPointer { rp in
                            let r = withResidual ? rp.baseAddress : nil
                            pw_gemm_images(packed, cols, plane, depth * plane, Int32(m), Int32(images), Int32(plane),
                                           Int32(depth), bias, r, 1, &expected, plane, m * plane, Int32(rowGroups), 0,
                                           Int32(blocks * rowGroups), &scratch)
                            x.withUnsafeBufferPointer { xp in
                                var input = pw_conv_input(x: xp.baseAddress!, C: Int32(c), H: Int32(h), W: Int32(w),
                                                          kh: Int32(k), kw: Int32(k), sh: Int32(s), sw: Int32(s),
                                                          ph: Int32(p), pw: Int32(p), dh: Int32(d), dw: Int32(d),
                                                          Ho: Int32(ho), Wo: Int32(wo))
                                pw_conv_gemm_images(packed, &input, Int32(m), Int32(images), bias, r, 1, &gathered, plane,
                                                    m * plane, Int32(rowGroups), 0, Int32(blocks * rowGroups), &scratch)
                            }
                        }
                    }
                    XCTAssertTrue(gathered == expected, "shape \(sh) \(tier.name) rowGroups \(rowGroups): gathered product differs")
                }
            }
        }
    }

    /// Every conv fixture through each algorithm (im2col / 1×1 → GEMM, Winograd F(2×2) and F(4×4) →
    /// input transform + fused product kernels) on every tier, against the portable tier and PyTorch.
    func testConvolutionsEveryTierMatchPortable() throws {
        var compared = 0
        for c in try Fixtures.cases("conv") {
            let bn: BatchNorm? = c.int("bn") == 1
                ? BatchNorm(weight: try c.tensor("bn_weight"), bias: try c.tensor("bn_bias"),
                            runningMean: try c.tensor("bn_mean"), runningVar: try c.tensor("bn_var"))
                : nil
            let winogradable = c.int("kh") == 3 && c.int("kw") == 3 && c.int("stride") == 1 && c.int("groups") == 1
            let x = try c.tensor("x"), expected = try c.tensor("y")
            let residual = c.int("residual") == 1 ? try c.tensor("residual") : nil
            for algorithm in winogradable ? [ConvAlgorithm.im2col, .winograd2, .winograd4] : [.im2col] {
                let conv = Conv2d(weight: try c.tensor("weight"), bias: c.has("bias") ? try c.tensor("bias") : nil,
                                  stride: c.int("stride"), padding: c.int("pad"), dilation: c.int("dil"),
                                  groups: c.int("groups"), batchNorm: bn, algorithm: algorithm)
                let portable = KernelTier.with(.portable) { conv(x, residual: residual, relu: c.int("relu") == 1) }
                for tier in KernelTier.supported.dropFirst() {
                    let y = KernelTier.with(tier) { conv(x, residual: residual, relu: c.int("relu") == 1) }
                    // F(4×4)'s transforms amplify the rounding differences FMA makes (measured ≤ 9.3e-7).
                    assertClose(y, portable, bound: algorithm == .winograd4 ? 3e-6 : 1e-6,
                                "\(c.name) \(algorithm) \(tier.name) vs portable")
                    assertClose(y, expected, bound: 1e-5, "\(c.name) \(algorithm) \(tier.name) vs PyTorch")
                    compared += 1
                }
            }
        }
        XCTAssertGreaterThanOrEqual(compared, (KernelTier.supported.count - 1) * 25)
    }

    /// The deformable gather alone, on maps large enough for the vector kernel's shortcuts (whole runs
    /// of samples with all four corners inside, read as pairs; whole runs outside at large dilations)
    /// and a width that leaves a tail: every tier against the portable one, sample by sample, every
    /// column written, samples outside the map exactly 0.
    func testDeformableGatherEveryTierMatchesPortable() {
        let (channels, h, w, groups) = (17, 40, 37, 17)
        let x = random(channels * h * w, seed: 11)
        for (dilation, spread) in [(1, Float(0.3)), (3, 2.5), (12, 0.5), (24, 6)] {
            let offsets = random(2 * groups * 9 * h * w, seed: UInt64(dilation)).map { $0 * spread }
            func columns(_ tier: KernelTier) -> [Float] {
                var out = [Float](repeating: .nan, count: channels * 9 * h * w)
                KernelTier.with(tier) {
                    pw_deform_im2col(x, offsets, Int32(channels), Int32(h), Int32(w), 3, 3, 1, Int32(dilation), Int32(dilation),
                                     Int32(h), Int32(w), Int32(groups), 0, Int32(channels), &out)
                }
                return out
            }
            let portable = columns(.portable)
            let outside = portable.filter { $0 == 0 }.count
            XCTAssertGreaterThan(outside, 0, "dilation \(dilation): some samples fall outside")
            XCTAssertLessThan(outside, portable.count / 2 + portable.count / 4, "dilation \(dilation): most samples are inside")
            for tier in KernelTier.supported.dropFirst() {
                let y = columns(tier)
                var worst: Float = 0
                for (a, b) in zip(y, portable) {
                    XCTAssertFalse(a.isNaN, "\(tier.name) dilation \(dilation): a column left unwritten")
                    if b == 0 { XCTAssertEqual(a, 0) } else { worst = max(worst, abs(a - b) / max(1, abs(b))) }
                }
                XCTAssertLessThanOrEqual(worst, 1e-6, "\(tier.name) dilation \(dilation)")
            }
        }
    }

    /// Non-finite offsets (a broken checkpoint's) sample nothing, on every tier: no read outside the
    /// map, columns 0.
    func testNonFiniteOffsetsSampleNothing() {
        let (channels, h, w) = (3, 9, 7)
        let x = random(channels * h * w, seed: 5)
        let offsets = (0..<(2 * channels * 9 * h * w)).map { i -> Float in [Float.nan, .infinity, -.infinity][i % 3] }
        for tier in KernelTier.supported {
            var out = [Float](repeating: 1, count: channels * 9 * h * w)
            KernelTier.with(tier) {
                pw_deform_im2col(x, offsets, Int32(channels), Int32(h), Int32(w), 3, 3, 1, 1, 1,
                                 Int32(h), Int32(w), Int32(channels), 0, Int32(channels), &out)
            }
            XCTAssertEqual(out.filter { $0 != 0 }.count, 0, tier.name)
        }
    }

    /// Deformable convolution (gather kernel + GEMM) on every tier against the portable tier and torchvision.
    func testDeformableEveryTierMatchesPortable() throws {
        for c in try Fixtures.cases("deform") {
            let conv = DeformableConv2d(weight: try c.tensor("weight"), bias: c.has("bias") ? try c.tensor("bias") : nil,
                                        stride: c.int("stride"), padding: c.int("pad"), dilation: c.int("dil"),
                                        groups: c.int("groups"), deformGroups: c.int("dg"))
            let x = try c.tensor("x"), offsets = try c.tensor("offset"), expected = try c.tensor("y")
            let portable = KernelTier.with(.portable) { conv(x, offsets: offsets) }
            for tier in KernelTier.supported.dropFirst() {
                let y = KernelTier.with(tier) { conv(x, offsets: offsets) }
                assertClose(y, portable, bound: 1e-6, "\(c.name) \(tier.name) vs portable")
                assertClose(y, expected, bound: 1e-5, "\(c.name) \(tier.name) vs torchvision")
            }
        }
    }
    /// The fused deformable convolution (offsets made by their convolution, sampled and multiplied block
    /// by block in cache) gives exactly the bits of the separate passes (offset convolution, columns
    /// written out, product) on every tier and at 1 and 2 threads: planes that are not a whole number
    /// of column blocks (blocks spanning rows and samples), several channels per deform group, a bias,
    /// offsets that send samples outside the map; given, shared and convolution-made offsets.
    func testFusedDeformableConvolutionMatchesSeparatePassesBitForBit() {
        struct Case { let c, dg, m, h, w, dil, features, images: Int; let bias: Bool; let spread: Float }
        let cases = [Case(c: 17, dg: 17, m: 17, h: 13, w: 11, dil: 2, features: 4, images: 3, bias: false, spread: 2),
                     Case(c: 8, dg: 2, m: 5, h: 20, w: 24, dil: 1, features: 6, images: 2, bias: true, spread: 8),
                     Case(c: 17, dg: 17, m: 17, h: 32, w: 24, dil: 8, features: 24, images: 1, bias: false, spread: 1)]
        var compared = 0
        for (n, t) in cases.enumerated() {
            let seed = UInt64(100 * n)
            let taps = 9, r = 2 * t.dg * taps
            let deform = DeformableConv2d(weight: Tensor(shape: [t.m, t.c, 3, 3], storage: random(t.m * t.c * taps, seed: seed + 1)),
                                          bias: t.bias ? Tensor(shape: [t.m], storage: random(t.m, seed: seed + 2)) : nil,
                                          padding: t.dil, dilation: t.dil, deformGroups: t.dg)
            let offsetConv = Conv2d(weight: Tensor(shape: [r, t.features, 3, 3], storage: random(r * t.features * taps, seed: seed + 3).map { $0 * t.spread }),
                                    bias: Tensor(shape: [r], storage: random(r, seed: seed + 4)), padding: t.dil, dilation: t.dil,
                                    algorithm: .im2col)
            // The same offset layer on Winograd: its offsets are made first, then sampled and multiplied fused.
            let winogradConv = Conv2d(weight: Tensor(shape: [r, t.features, 3, 3], storage: offsetConv.weights),
                                      bias: Tensor(shape: [r], storage: offsetConv.bias!), padding: t.dil, dilation: t.dil,
                                      algorithm: .winograd2)
            let x = Tensor(shape: [t.images, t.c, t.h, t.w], storage: random(t.images * t.c * t.h * t.w, seed: seed + 5))
            let features = Tensor(shape: [t.images, t.features, t.h, t.w], storage: random(t.images * t.features * t.h * t.w, seed: seed + 6))
            for tier in KernelTier.supported {
                KernelTier.with(tier) {
                    let offsets = offsetConv(features, planBatch: t.images)
                    let one = sliceBatch(offsets, start: 0, count: 1)
                    func separate(_ o: Tensor) -> [Float] {
                        var y = [Float](repeating: .nan, count: t.images * t.m * t.h * t.w)
                        x.withUnsafeBufferPointer { xb in
                            withOptionalArray(deform.bias) { b in
                                y.withUnsafeMutableBufferPointer { deform.separatePasses(xb.baseAddress!, t.images, t.h, t.w, o, b, $0.baseAddress!) }
                            }
                        }
                        return y
                    }
                    let made = separate(offsets), shared = separate(one)
                    let winograd = separate(winogradConv(features, planBatch: t.images))
                    let sources: [(String, DeformableOffsets, [Float])] = [
                        ("convolution", .convolution(offsetConv, features, planBatch: t.images), made),
                        ("given", .tensor(offsets), made), ("shared", .shared(one, count: t.images), shared),
                        ("winograd convolution", .convolution(winogradConv, features, planBatch: t.images), winograd)]
                    for (name, source, expected) in sources {
                        // The portable tier's products run on OpenBLAS: no fusion there; a Winograd
                        // convolution's offsets are made before the fused sampling.
                        XCTAssertEqual(deform.fuses(source, height: t.h, width: t.w), tier != .portable && !name.hasPrefix("winograd"),
                                       "case \(n) \(tier.name) \(name): runs fused")
                        for threads in [1, 2] {
                            EngineThreads.set(threads)
                            let y = deform(x, offsetSources: [source])
                            XCTAssertFalse(y.storage.contains { $0.isNaN }, "case \(n) \(name)")
                            let differing = zip(y.storage, expected).filter { $0.0.bitPattern != $0.1.bitPattern }.count
                            XCTAssertEqual(differing, 0, "case \(n) \(tier.name) \(name) \(threads) threads: values that differ")
                            compared += 1
                        }
                    }
                    EngineThreads.set(ProcessInfo.processInfo.activeProcessorCount)
                    let zeros = made.filter { $0 == 0 }.count
                    XCTAssertLessThan(zeros, made.count / 4, "case \(n): the outputs are not mostly empty")
                }
            }
        }
        XCTAssertEqual(compared, cases.count * KernelTier.supported.count * 8)
    }
}
