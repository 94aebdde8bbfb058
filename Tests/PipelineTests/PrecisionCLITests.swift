import Engine
import Foundation
import Tensors
import XCTest

/// `--precision fp32|bf16` and the pipeline file's `model.precision`: refused with the missing CPU
/// feature named where bfloat16 cannot run (PW_ISA=1 caps the kernels below AVX-512 on any CPU), and
/// where it can, approximate, deterministic and at any thread count the same bits.
final class PrecisionCLITests: XCTestCase {
    let models = Fixtures.packageRoot.appendingPathComponent("Tests/ModelsTests/Fixtures").path

    /// Runs the binary with extra environment variables.
    func run(_ args: [String], environment: [String: String] = [:]) throws -> (code: Int32, stdout: String, stderr: String) {
        guard let binary = CLITests.binary else { throw XCTSkip("the posewarper executable is not built (make test builds it)") }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = args
        p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile(), stderr = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }

    private func forward(_ out: String, _ extra: [String], environment: [String: String] = [:]) throws -> (code: Int32, stdout: String, stderr: String) {
        try run(["forward", "--weights", models + "/tiny_posewarper.pth", "--input", models + "/tiny_posewarper_input.npy",
                 "--output", out] + extra, environment: environment)
    }

    func testBF16RefusedWhereUnsupported() throws {
        let dir = Fixtures.scratch()
        let capped = ["PW_ISA": "1"]
        // The flag: a usage error (64) naming the flag and the missing feature; nothing written.
        let f = try forward(dir + "/o.npy", ["--precision", "bf16"], environment: capped)
        XCTAssertEqual(f.code, 64, f.stderr)
        XCTAssertTrue(f.stderr.contains("--precision bf16") && f.stderr.contains("AVX512-BF16"), f.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/o.npy"))
        try Fixtures.makeVideo(dir + "/clip.mp4", frames: 3)
        let r = try run(["run", dir + "/clip.mp4", "--pipeline", try Fixtures.tinyPipeline(in: dir), "--whole-frame",
                         "--keypoints", dir + "/k.jsonl", "--precision", "bf16"], environment: capped)
        XCTAssertEqual(r.code, 64, r.stderr)
        XCTAssertTrue(r.stderr.contains("AVX512-BF16"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/k.jsonl"))
        // The pipeline file's model.precision: bad input (1) naming the file and the key.
        let pipeline = try Fixtures.tinyPipeline(in: dir, replacing: ["post_process: default": "post_process: default\n  precision: bf16"])
        let p = try run(["run", dir + "/clip.mp4", "--pipeline", pipeline, "--whole-frame", "--keypoints", dir + "/k.jsonl"],
                        environment: capped)
        XCTAssertEqual(p.code, 1, p.stderr)
        XCTAssertTrue(p.stderr.contains(pipeline) && p.stderr.contains("model.precision bf16") && p.stderr.contains("AVX512-BF16"), p.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/k.jsonl"))
        // float32 runs there as everywhere, and the flag overrides the file.
        let fp32 = try run(["run", dir + "/clip.mp4", "--pipeline", pipeline, "--whole-frame", "--keypoints", dir + "/k.jsonl",
                            "--precision", "fp32"], environment: capped)
        XCTAssertEqual(fp32.code, 0, fp32.stderr)
    }

    func testBadPrecisionValues() throws {
        let dir = Fixtures.scratch()
        let flag = try forward(dir + "/o.npy", ["--precision", "fp16"])
        XCTAssertEqual(flag.code, 64, flag.stderr)
        XCTAssertTrue(flag.stderr.contains("fp16"), flag.stderr)
        let pipeline = try Fixtures.tinyPipeline(in: dir, replacing: ["post_process: default": "post_process: default\n  precision: half"])
        let file = try forward(dir + "/o.npy", ["--pipeline", pipeline])
        XCTAssertEqual(file.code, 1, file.stderr)
        XCTAssertTrue(file.stderr.contains(pipeline + ":8") && file.stderr.contains("fp32, bf16"), file.stderr)
    }

    func testHelpSaysApproximate() throws {
        for command in ["run", "forward", "propagate"] {
            let r = try run([command, "--help"])
            XCTAssertEqual(r.code, 0)
            let help = r.stdout.replacingOccurrences(of: "\n", with: " ").split(separator: " ").joined(separator: " ")
            XCTAssertTrue(help.contains("--precision") && help.contains("bf16 (approximate"), "\(command) --help: \(r.stdout)")
        }
    }

    /// Where bfloat16 runs: close to float32 but not it, and the same bits at 1 and 2 threads and run to run.
    func testForwardBF16CloseToFloat32AndDeterministic() throws {
        if let problem = Precision.bfloat16.problem { throw XCTSkip(problem) }
        let dir = Fixtures.scratch()
        var outputs: [String: Tensor] = [:]
        for (name, extra) in [("fp32", ["--precision", "fp32"]), ("bf16-1", ["--precision", "bf16", "--threads", "1"]),
                              ("bf16-2", ["--precision", "bf16", "--threads", "2"]), ("bf16-again", ["--precision", "bf16"])] {
            let r = try forward(dir + "/\(name).npy", extra)
            XCTAssertEqual(r.code, 0, r.stderr)
            outputs[name] = try NPY.read(dir + "/\(name).npy")
        }
        let expected = try NPY.read(models + "/tiny_posewarper_output.npy")   // PyTorch float32
        XCTAssertLessThanOrEqual(TensorDifference(outputs["fp32"]!, reference: expected).relativeL2, 1e-5)
        let d = TensorDifference(outputs["bf16-1"]!, reference: expected)
        print("  tiny PoseWarper bf16 vs PyTorch float32: \(d)")
        XCTAssertLessThanOrEqual(d.relativeL2, 2e-2, "\(d)")
        XCTAssertGreaterThan(d.relativeL2, 1e-5, "bf16 gave float32's answer")
        XCTAssertEqual(outputs["bf16-1"]!.storage, outputs["bf16-2"]!.storage, "bf16 differs between 1 and 2 threads")
        XCTAssertEqual(outputs["bf16-1"]!.storage, outputs["bf16-again"]!.storage, "bf16 differs run to run")
    }
}
