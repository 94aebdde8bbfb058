import Engine
import Tensors
import XCTest

final class ConvolutionTests: XCTestCase {
    private func makeConv(_ c: Fixtures.Case, _ algorithm: ConvAlgorithm = .automatic) throws -> Conv2d {
        let bn: BatchNorm? = c.int("bn") == 1
            ? BatchNorm(weight: try c.tensor("bn_weight"), bias: try c.tensor("bn_bias"),
                        runningMean: try c.tensor("bn_mean"), runningVar: try c.tensor("bn_var"))
            : nil
        return Conv2d(weight: try c.tensor("weight"), bias: c.has("bias") ? try c.tensor("bias") : nil,
                      stride: c.int("stride"), padding: c.int("pad"), dilation: c.int("dil"),
                      groups: c.int("groups"), batchNorm: bn, algorithm: algorithm)
    }

    /// Both Winograd variants on every stride-1 3×3 fixture (dilations 1, 3, 6, 12; N = 2; odd sizes).
    func testWinogradMatchesPyTorch() throws {
        var tested = 0
        for c in try Fixtures.cases("conv") where c.int("kh") == 3 && c.int("kw") == 3 && c.int("stride") == 1 && c.int("groups") == 1 {
            for (algorithm, bound) in [(ConvAlgorithm.winograd2, 1e-5), (.winograd4, 1e-5)] {
                let conv = try makeConv(c, algorithm)
                XCTAssertEqual(conv.algorithm(batch: 1, outHeight: 8, outWidth: 8), algorithm)
                let residual = c.int("residual") == 1 ? try c.tensor("residual") : nil
                let y = conv(try c.tensor("x"), residual: residual, relu: c.int("relu") == 1)
                assertClose(y, try c.tensor("y"), bound: bound, "\(c.name) \(algorithm)")
                tested += 1
            }
        }
        XCTAssertGreaterThanOrEqual(tested, 14)
    }

    /// Every conv variant (1×1, 3×3 s1/s2, dilation 3/6/12, groups, 5×3, bias/BN/residual/ReLU, N=2)
    /// matches the float64 PyTorch reference.
    func testConvolutionsMatchPyTorch() throws {
        let cases = try Fixtures.cases("conv")
        XCTAssertGreaterThanOrEqual(cases.count, 12)
        for c in cases {
            let conv = try makeConv(c)
            let residual = c.int("residual") == 1 ? try c.tensor("residual") : nil
            let y = conv(try c.tensor("x"), residual: residual, relu: c.int("relu") == 1)
            assertClose(y, try c.tensor("y"), bound: 1e-5, c.name)
        }
    }

    /// Several threads calling one Conv2d at once get the same answers as one thread (im2col + sgemm and
    /// both Winograd variants, whose plans are built lazily by the first callers).
    func testConcurrentCallsAgree() throws {
        let c = try Fixtures.cases("conv").first { $0.name == "conv3x3_n2_bn_res_relu" }!
        let x = try c.tensor("x"), r = try c.tensor("residual"), ref = try c.tensor("y")
        for algorithm in [ConvAlgorithm.im2col, .winograd2, .winograd4] {
            let conv = try makeConv(c, algorithm)
            let results = UnsafeMutableBufferPointer<Double>.allocate(capacity: 8)
            defer { results.deallocate() }
            DispatchQueue.concurrentPerform(iterations: 8) { i in
                results[i] = TensorDifference(conv(x, residual: r, relu: true), reference: ref).relativeL2
            }
            for i in 0..<8 { XCTAssertLessThanOrEqual(results[i], 1e-5, "\(algorithm) call \(i)") }
        }
    }

    func testDeformableConvolutionsMatchTorchvision() throws {
        let cases = try Fixtures.cases("deform")
        XCTAssertGreaterThanOrEqual(cases.count, 5)
        for c in cases {
            let conv = DeformableConv2d(weight: try c.tensor("weight"), bias: c.has("bias") ? try c.tensor("bias") : nil,
                                        stride: c.int("stride"), padding: c.int("pad"), dilation: c.int("dil"),
                                        groups: c.int("groups"), deformGroups: c.int("dg"))
            let y = conv(try c.tensor("x"), offsets: try c.tensor("offset"))
            assertClose(y, try c.tensor("y"), bound: 1e-5, c.name)
        }
    }

    /// Offsets handed over in batch parts (a window's frames, one part repeated for several samples)
    /// give the same bits as the same offsets in one tensor, and a part count that does not add up is
    /// refused by the caller's shapes, not read past.
    func testDeformableConvolutionTakesOffsetsInBatchParts() throws {
        let c = try Fixtures.cases("deform").first { $0.int("stride") == 1 }!
        let conv = DeformableConv2d(weight: try c.tensor("weight"), bias: c.has("bias") ? try c.tensor("bias") : nil,
                                    stride: 1, padding: c.int("pad"), dilation: c.int("dil"),
                                    groups: c.int("groups"), deformGroups: c.int("dg"))
        let x1 = try c.tensor("x"), o1 = try c.tensor("offset")
        let shifted = Tensor(shape: o1.shape, storage: o1.storage.map { $0 * -0.5 + 0.25 })
        let x = concatBatch([x1, x1, x1, x1]), whole = concatBatch([o1, o1, shifted, o1])
        let parts = conv(x, offsetParts: [o1, o1, concatBatch([shifted, o1])])
        XCTAssertEqual(parts.shape, conv(x, offsets: whole).shape)
        XCTAssertEqual(parts.storage, conv(x, offsets: whole).storage)
        XCTAssertNotEqual(sliceBatch(parts, start: 2, count: 1).storage, sliceBatch(parts, start: 0, count: 1).storage)
    }

    /// The thread count setting changes nothing numerically that matters (1 thread vs default).
    func testSingleThreadMatches() throws {
        let c = try Fixtures.cases("conv").first { $0.name == "conv3x3_48_realistic" }!
        let conv = try makeConv(c)
        EngineThreads.set(1)
        defer { EngineThreads.set(ProcessInfo.processInfo.activeProcessorCount) }
        let y = conv(try c.tensor("x"), residual: try c.tensor("residual"), relu: true)
        assertClose(y, try c.tensor("y"), bound: 1e-5, "\(c.name) 1 thread")
    }
}
