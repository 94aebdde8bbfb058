import CKernels
@testable import Engine
import Foundation
import Tensors
import XCTest

/// The approximate bfloat16 products (`Precision.bfloat16`): rounding, exactness where bfloat16 is
/// exact, error bounds against float64 / PyTorch references, and bit-identical results at any thread
/// count. Tests needing AVX512-BF16 skip on CPUs without it.
final class BFloat16Tests: XCTestCase {
    private func requireBF16() throws {
        if let problem = Precision.bfloat16.problem { throw XCTSkip(problem) }
    }

    private func random(_ count: Int, seed: UInt64) -> [Float] {
        var state = seed &* 6364136223846793005 &+ 1442695040888963407
        return (0..<count).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(state >> 40) / Float(1 << 23) - 1
        }
    }

    /// Small integers: exact in bfloat16, and every product and sum below exact in float32.
    private func integers(_ count: Int, seed: UInt64) -> [Float] {
        random(count, seed: seed).map { ($0 * 8).rounded(.towardZero) }
    }

    /// Round to nearest even, ties included; NaN stays NaN; the pair's order (even index low).
    func testPairRounding() {
        let one: UInt32 = 0x3F80
        XCTAssertEqual(pw_bf16_pair(1, 0), one)
        XCTAssertEqual(pw_bf16_pair(0, 1), one << 16)
        XCTAssertEqual(pw_bf16_pair(1 + 1.0 / 256, 0), one)              // tie → even (1.0)
        XCTAssertEqual(pw_bf16_pair(1 + 3.0 / 256, 0), one + 2)          // tie → even (1 + 2⁻⁶)
        XCTAssertEqual(pw_bf16_pair(1 + 1.0 / 256 + 1.0 / 65536, 0), one + 1)   // above the tie → up
        XCTAssertEqual(pw_bf16_pair(-2, 0), 0xC000)
        let nan = pw_bf16_pair(.nan, 0) & 0xFFFF
        XCTAssertEqual(nan & 0x7F80, 0x7F80); XCTAssertNotEqual(nan & 0x7F, 0, "NaN must stay NaN")
        XCTAssertEqual(pw_bf16_pair(.infinity, 0), 0x7F80)
    }

    private func runGemm(_ a: [Float], _ b: [Float], m: Int, n: Int, k: Int, ldb: Int, ldc: Int,
                         bias: [Float]?, residual: [Float]?, relu: Bool) -> [Float] {
        var c = [Float](repeating: .nan, count: m * ldc)
        a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in
            withOptional(bias) { biasp in withOptional(residual) { rp in
                c.withUnsafeMutableBufferPointer { cp in
                    gemm(rowMajor: ap.baseAddress!, rows: m, depth: k, bp.baseAddress!, ldb: ldb, n: n,
                         bias: biasp, residual: rp, relu: relu, c: cp.baseAddress!, ldc: ldc)
                }
            } }
        } }
        return c
    }

    private func withOptional<R>(_ a: [Float]?, _ body: (UnsafePointer<Float>?) -> R) -> R {
        if let a { return a.withUnsafeBufferPointer { body($0.baseAddress!) } }
        return body(nil)
    }

    private let shapes: [(m: Int, n: Int, k: Int)] = [(1, 1, 1), (12, 32, 7), (13, 37, 5), (25, 65, 129),
                                                      (17, 100, 153), (50, 333, 300), (3, 1000, 2), (24, 64, 2304)]

    /// On bfloat16-exact inputs the products are exact, so the result equals the float64 reference bit
    /// for bit: the pairing along K (odd K), the edge blocks and the epilogue are right.
    func testGemmExactOnBFloat16Values() throws {
        try requireBF16()
        for (si, s) in shapes.enumerated() {
            let ldb = s.n + 3, ldc = s.n + 5
            let a = integers(s.m * s.k, seed: UInt64(si)), b = integers(s.k * ldb, seed: UInt64(100 + si))
            let bias = integers(s.m, seed: UInt64(200 + si)), residual = integers(s.m * ldc, seed: UInt64(300 + si))
            let c = Precision.bfloat16.run {
                runGemm(a, b, m: s.m, n: s.n, k: s.k, ldb: ldb, ldc: ldc, bias: bias, residual: residual, relu: true)
            }
            var mismatches = 0
            for i in 0..<s.m {
                for j in 0..<s.n {
                    var v = 0.0
                    for q in 0..<s.k { v += Double(a[i * s.k + q]) * Double(b[q * ldb + j]) }
                    v = max(v + Double(bias[i]) + Double(residual[i * ldc + j]), 0)
                    if Double(c[i * ldc + j]) != v { mismatches += 1 }
                }
                for j in s.n..<ldc { XCTAssertTrue(c[i * ldc + j].isNaN, "columns past n are the caller's") }
            }
            XCTAssertEqual(mismatches, 0, "gemm \(s.m)×\(s.n)×\(s.k): \(mismatches) elements differ from the exact result")
        }
    }

    /// General inputs: relative L2 against float64 within what 8-bit mantissas allow (each rounding
    /// ≤ 2⁻⁹ relative; measured 1.5–2.6e-3), and clearly not float32 (so bfloat16 really ran).
    func testGemmWithinBFloat16Bound() throws {
        try requireBF16()
        for (si, s) in shapes.enumerated() where s.k > 1 {
            let a = random(s.m * s.k, seed: UInt64(si)), b = random(s.k * s.n, seed: UInt64(100 + si))
            let c = Precision.bfloat16.run {
                runGemm(a, b, m: s.m, n: s.n, k: s.k, ldb: s.n, ldc: s.n, bias: nil, residual: nil, relu: false)
            }
            var err = 0.0, norm = 0.0
            for i in 0..<s.m {
                for j in 0..<s.n {
                    var v = 0.0
                    for q in 0..<s.k { v += Double(a[i * s.k + q]) * Double(b[q * s.n + j]) }
                    XCTAssertFalse(c[i * s.n + j].isNaN)
                    err += (Double(c[i * s.n + j]) - v) * (Double(c[i * s.n + j]) - v); norm += v * v
                }
            }
            let rel = (err / norm).squareRoot()
            print("  bf16 gemm \(s.m)×\(s.n)×\(s.k): relative L2 \(rel)")
            XCTAssertLessThan(rel, 6e-3, "gemm \(s.m)×\(s.n)×\(s.k)")
            XCTAssertGreaterThan(rel, 1e-4, "gemm \(s.m)×\(s.n)×\(s.k): float32-exact, so bfloat16 did not run")
        }
    }

    /// Every conv fixture through each algorithm (im2col / 1×1 → GEMM; Winograd F(2×2), F(4×4)) and the
    /// deformable fixtures, in bfloat16, against PyTorch's float32 outputs.
    func testConvolutionsWithinBFloat16Bound() throws {
        try requireBF16()
        var worst: [String: Double] = [:]
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
                let y = Precision.bfloat16.run { conv(x, residual: residual, relu: c.int("relu") == 1) }
                XCTAssertFalse(y.storage.contains { $0.isNaN }, "\(c.name) \(algorithm): NaN")
                let d = TensorDifference(y, reference: expected)
                worst["\(algorithm)"] = max(worst["\(algorithm)"] ?? 0, d.relativeL2)
                // F(4×4)'s output transform amplifies the input rounding (terms ≫ the outputs they cancel into).
                assertClose(y, expected, bound: algorithm == .winograd4 ? 2.5e-2 : 1e-2, "\(c.name) \(algorithm) bf16 vs PyTorch")
            }
        }
        for c in try Fixtures.cases("deform") {
            let conv = DeformableConv2d(weight: try c.tensor("weight"), bias: c.has("bias") ? try c.tensor("bias") : nil,
                                        stride: c.int("stride"), padding: c.int("pad"), dilation: c.int("dil"),
                                        groups: c.int("groups"), deformGroups: c.int("dg"))
            let x = try c.tensor("x"), offsets = try c.tensor("offset"), expected = try c.tensor("y")
            let y = Precision.bfloat16.run { conv(x, offsets: offsets) }
            worst["deform"] = max(worst["deform"] ?? 0, TensorDifference(y, reference: expected).relativeL2)
            assertClose(y, expected, bound: 1e-2, "\(c.name) bf16 vs torchvision")
        }
        print("  bf16 worst relative L2 per algorithm: \(worst.sorted { $0.key < $1.key })")
    }

    /// Convolutions large enough to be split over threads give the same bits at 1 and 2 threads and
    /// run to run, in bfloat16 as in float32.
    func testBitIdenticalAtAnyThreadCount() throws {
        try requireBF16()
        defer { EngineThreads.set(ProcessInfo.processInfo.activeProcessorCount) }
        let c = 48, k = 64, h = 40, w = 30
        let x = Tensor(shape: [2, c, h, w], storage: random(2 * c * h * w, seed: 7))
        let residual = Tensor(shape: [2, k, h, w], storage: random(2 * k * h * w, seed: 8))
        var convs: [(String, (Tensor) -> Tensor)] = []
        for algorithm in [ConvAlgorithm.im2col, .winograd2, .winograd4] {
            let conv = Conv2d(weight: Tensor(shape: [k, c, 3, 3], storage: random(k * c * 9, seed: 9)),
                              bias: Tensor(shape: [k], storage: random(k, seed: 10)), padding: 2, dilation: 2, algorithm: algorithm)
            convs.append(("3×3 \(algorithm)", { conv($0, residual: residual, relu: true) }))
        }
        let pointwise = Conv2d(weight: Tensor(shape: [k, c, 1, 1], storage: random(k * c, seed: 11)), bias: nil)
        convs.append(("1×1", { pointwise($0) }))
        let strided = Conv2d(weight: Tensor(shape: [k, c, 3, 3], storage: random(k * c * 9, seed: 12)), bias: nil, stride: 2, padding: 1)
        convs.append(("3×3 stride 2", { strided($0) }))
        let deform = DeformableConv2d(weight: Tensor(shape: [k, c, 3, 3], storage: random(k * c * 9, seed: 13)),
                                      padding: 3, dilation: 3, deformGroups: 1)
        let offsets = Tensor(shape: [2, 18, h, w], storage: random(2 * 18 * h * w, seed: 14).map { $0 * 4 })
        convs.append(("deformable", { deform($0, offsets: offsets) }))
        for (name, conv) in convs {
            var results: [Tensor] = []
            for threads in [1, 2, 1, 2] {
                EngineThreads.set(threads)
                results.append(Precision.bfloat16.run { conv(x) })
            }
            for r in results.dropFirst() {
                XCTAssertTrue(r.storage == results[0].storage, "\(name): bf16 results differ between thread counts or runs")
            }
            EngineThreads.set(2)
            XCTAssertFalse(conv(x).storage == results[0].storage, "\(name): bf16 gave float32's bits")
        }
    }

    /// The scope is the caller's: another thread's convolutions stay float32 meanwhile.
    func testPrecisionIsScopedToTheCaller() throws {
        try requireBF16()
        let conv = Conv2d(weight: Tensor(shape: [16, 16, 1, 1], storage: random(256, seed: 1)), bias: nil)
        let x = Tensor(shape: [1, 16, 8, 8], storage: random(1024, seed: 2))
        let float32 = conv(x)
        var other: Tensor? = nil
        Precision.bfloat16.run {
            let done = DispatchSemaphore(value: 0)
            Thread { other = conv(x); done.signal() }.start()
            done.wait()
            XCTAssertFalse(conv(x).storage == float32.storage)
        }
        XCTAssertTrue(other?.storage == float32.storage, "another thread's conv changed precision")
        XCTAssertTrue(conv(x).storage == float32.storage)
    }

    /// PW_ISA's cap (or a forced lower tier) makes bfloat16 unavailable, with a reason naming it.
    func testUnavailableBelowTheAVX512Tier() {
        KernelTier.with(.avx2) {
            XCTAssertEqual(pw_bf16_supported(), 0)
            XCTAssertNotNil(Precision.bfloat16.problem)
            XCTAssertTrue(Precision.bfloat16.problem?.contains("AVX512-BF16") ?? false, Precision.bfloat16.problem ?? "")
        }
        XCTAssertNil(Precision.float32.problem)
    }
}
