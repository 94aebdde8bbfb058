// Engine op benchmarks: sgemm peak, and the convolution layers that dominate HRNet and PoseWarper.
import Engine
import Foundation
import Tensors

/// Benchmark sections for the Engine module.
func engineBenchSections() -> [BenchSection] {
    [(name: "engine ops (2 threads, median of 7; machine shared → noisy)", run: runEngineOpBench)]
}

private func randomTensor(_ shape: [Int], scale: Float, seed: UInt64) -> Tensor {
    var state = seed &* 6364136223846793005 &+ 1442695040888963407
    return Tensor(shape: shape, unsafeUninitialized: { b in
        for i in 0..<b.count {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            b[i] = (Float(state >> 40) / Float(1 << 24) - 0.5) * 2 * scale
        }
    })
}

/// Runs Tools/reference/bench_ops_torch.py when torch is importable; nil (with the reason) otherwise.
private func torchTimings(threads: Int) -> ([String: Double]?, String) {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let script = root.appendingPathComponent("Tools/reference/bench_ops_torch.py").path
    guard FileManager.default.fileExists(atPath: script) else { return (nil, "no \(script)") }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", script, String(threads), "7"]
    let pipe = Pipe(), errors = Pipe()
    process.standardOutput = pipe
    process.standardError = errors
    do { try process.run() } catch { return (nil, "cannot run python3: \(error)") }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    _ = errors.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0,
          let json = try? JSONSerialization.jsonObject(with: data) as? [String: Double] else {
        return (nil, "torch not importable or the script failed (exit \(process.terminationStatus))")
    }
    return (json, "")
}

private func runEngineOpBench() throws {
    let env = ProcessInfo.processInfo.environment
    let threads = Int(env["PW_BENCH_THREADS"] ?? "") ?? 2
    let only = env["PW_BENCH_ONLY"]   // substring filter for quick local runs (skips sgemm peak and torch)
    EngineThreads.set(threads)
    if only == nil {
        let peak = EngineThroughput.sgemmGFLOPs(size: 2048, repeats: 5)
        let own = EngineThroughput.engineGemmGFLOPs(size: 2048, repeats: 5)
        print(String(format: "gemm 2048³ (%d threads): engine %.0f GFLOP/s, OpenBLAS %.0f GFLOP/s", threads, own, peak))
    }

    struct Row { let key: String; let label: String; let ms: Double; let flops: Double }
    var rows: [Row] = []

    func conv(_ key: String, _ label: String, cin: Int, cout: Int, h: Int, w: Int, dilation: Int = 1, n: Int = 1,
              _ algorithms: [ConvAlgorithm]) {
        let x = randomTensor([n, cin, h, w], scale: 1, seed: 1)
        let weight = randomTensor([cout, cin, 3, 3], scale: 0.05, seed: 2)
        let flops = 2.0 * Double(n * cout * cin * 9 * h * w)
        if let only, !key.contains(only) { return }
        for algorithm in algorithms {
            let c = Conv2d(weight: weight, bias: nil, padding: dilation, dilation: dilation, algorithm: algorithm)
            let ms = medianMilliseconds(runs: 7) { _ = c(x) }
            let chosen = c.algorithm(batch: n, outHeight: h, outWidth: w)
            let name = algorithm == .automatic ? "automatic→\(chosen)" : "\(algorithm)"
            rows.append(Row(key: key, label: "\(label) [\(name)]", ms: ms, flops: flops))
        }
    }
    // 1×1 and strided convs (the matrix-product path): HRNet bottlenecks, fuse layers, transitions, head.
    func plain(_ key: String, _ label: String, cin: Int, cout: Int, h: Int, w: Int, kernel: Int, stride: Int) {
        if let only, !key.contains(only) { return }
        let x = randomTensor([1, cin, h, w], scale: 1, seed: 1)
        let c = Conv2d(weight: randomTensor([cout, cin, kernel, kernel], scale: 0.05, seed: 2), bias: nil,
                       stride: stride, padding: kernel / 2)
        let (ho, wo) = c.outputSize(height: h, width: w)
        rows.append(Row(key: key, label: "\(label) [\(c.algorithm(batch: 1, outHeight: ho, outWidth: wo))]",
                        ms: medianMilliseconds(runs: 7) { _ = c(x) },
                        flops: 2.0 * Double(cout * cin * kernel * kernel * ho * wo)))
    }
    plain("conv1x1_256_64_96x72", "1×1 256→64 96×72", cin: 256, cout: 64, h: 96, w: 72, kernel: 1, stride: 1)
    plain("conv1x1_64_256_96x72", "1×1 64→256 96×72", cin: 64, cout: 256, h: 96, w: 72, kernel: 1, stride: 1)
    plain("conv1x1_384_48_12x9", "1×1 384→48 12×9", cin: 384, cout: 48, h: 12, w: 9, kernel: 1, stride: 1)
    plain("conv1x1_48_17_96x72", "1×1 48→17 96×72", cin: 48, cout: 17, h: 96, w: 72, kernel: 1, stride: 1)
    plain("conv3x3s2_48_96_96x72", "3×3 s2 48→96 96×72", cin: 48, cout: 96, h: 96, w: 72, kernel: 3, stride: 2)
    plain("conv3x3s2_192_384_24x18", "3×3 s2 192→384 24×18", cin: 192, cout: 384, h: 24, w: 18, kernel: 3, stride: 2)
    conv("conv3x3_128_96x72", "3×3 128→128 96×72", cin: 128, cout: 128, h: 96, w: 72, [.im2col, .winograd2, .winograd4, .automatic])
    conv("conv3x3_128_96x72_n5", "3×3 128→128 96×72 N=5", cin: 128, cout: 128, h: 96, w: 72, n: 5, [.im2col, .winograd4, .automatic])
    conv("conv3x3_48_96x72", "3×3 48→48 96×72", cin: 48, cout: 48, h: 96, w: 72, [.im2col, .winograd2, .winograd4, .automatic])
    conv("conv3x3_384_12x9", "3×3 384→384 12×9", cin: 384, cout: 384, h: 12, w: 9, [.im2col, .winograd2, .winograd4, .automatic])
    // HRNet-W32's low-resolution branches (256×192 input): few columns per product.
    conv("conv3x3_128_16x12", "3×3 128→128 16×12", cin: 128, cout: 128, h: 16, w: 12, [.im2col, .winograd2, .winograd4, .automatic])
    conv("conv3x3_256_8x6", "3×3 256→256 8×6", cin: 256, cout: 256, h: 8, w: 6, [.im2col, .winograd2, .winograd4, .automatic])
    conv("conv3x3_128_306_d12_96x72", "3×3 128→306 d=12 96×72", cin: 128, cout: 306, h: 96, w: 72, dilation: 12,
         [.im2col, .winograd2, .winograd4, .automatic])
    // The demo model's offset layers (4 channels in, 64×48 heatmaps): its neck's largest cost.
    conv("conv3x3_4_306_d12_64x48", "3×3 4→306 d=12 64×48", cin: 4, cout: 306, h: 64, w: 48, dilation: 12,
         [.im2col, .winograd2, .winograd4, .automatic])

    if only == nil || "deform".contains(only!) {
    let x = randomTensor([1, 17, 96, 72], scale: 1, seed: 3)
    let offsets = randomTensor([1, 306, 96, 72], scale: 5, seed: 4)
    let deform = DeformableConv2d(weight: randomTensor([17, 17, 3, 3], scale: 0.1, seed: 5), padding: 12, dilation: 12,
                                  deformGroups: 17)
    rows.append(Row(key: "deform_17_dg17_d12_96x72", label: "deform 17→17 dg=17 d=12 96×72",
                    ms: medianMilliseconds(runs: 7) { _ = deform(x, offsets: offsets) }, flops: 2.0 * 17 * 17 * 9 * 96 * 72))
    }

    let (torch, why) = only == nil ? torchTimings(threads: threads) : (nil, "filtered run")
    if torch == nil { print("(PyTorch column skipped: \(why))") }
    print("op".padding(toLength: 46, withPad: " ", startingAt: 0) + "      ms   GFLOP/s*   torch ms   torch/ours")
    for r in rows {
        var line = r.label.padding(toLength: 46, withPad: " ", startingAt: 0)
        line += String(format: "%8.2f %9.0f", r.ms, r.flops / r.ms / 1e6)
        if let t = torch?[r.key] { line += String(format: " %10.2f %11.2f", t, t / r.ms) }
        print(line)
    }
    print("* GFLOP/s counts 2·MACs of the direct convolution (Winograd rows are 'equivalent' GFLOP/s).")
}
