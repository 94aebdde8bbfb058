import Foundation
import Tensors
import XCTest

/// `posewarper forward` as users run it to validate a model: the built binary on the tiny fixtures.
final class ForwardCLITests: XCTestCase {
    let models = Fixtures.packageRoot.appendingPathComponent("Tests/ModelsTests/Fixtures").path

    func run(_ args: [String]) throws -> (code: Int32, stderr: String) {
        let r = try CLITests.run(args)
        return (r.code, r.stderr)
    }

    /// A pipeline file's temporal section reaches the network: the fixture's non-default dilations and
    /// frame weights (a zero-weight frame included) give PyTorch's output for those options.
    func testPipelineFileSetsTemporalOptions() throws {
        let dir = Fixtures.scratch()
        let pipeline = try Fixtures.tinyPipeline(in: dir, replacing: [
            "frame_weights: [0.3, 0.1, 0.25, 0.25, 0.1]": "frame_weights: [0.5, 0.0, 0.2, 0.3, 0.0]",
            "dilations: [3, 6, 12, 18, 24]": "dilations: [1, 2, 3, 4, 5]",
        ])
        let out = dir + "/heatmaps.npy"
        let r = try run(["forward", "--weights", models + "/tiny_posewarper.pth", "--pipeline", pipeline,
                                    "--input", models + "/tiny_posewarper_input.npy", "--output", out])
        XCTAssertEqual(r.code, 0, r.stderr)
        let got = try NPY.read(out)
        let expected = try NPY.read(models + "/tiny_posewarper_output_options.npy")
        let d = TensorDifference(got, reference: expected)
        XCTAssertLessThanOrEqual(d.relativeL2, 1e-5, "\(d)")
        // Without the pipeline file the defaults apply, which is a different answer.
        let plain = try run(["forward", "--weights", models + "/tiny_posewarper.pth",
                                        "--input", models + "/tiny_posewarper_input.npy", "--output", out])
        XCTAssertEqual(plain.code, 0, plain.stderr)
        XCTAssertLessThanOrEqual(TensorDifference(try NPY.read(out), reference: try NPY.read(models + "/tiny_posewarper_output.npy")).relativeL2, 1e-5)
    }

    func testBadInputsNameTheFileAndExitOne() throws {
        let dir = Fixtures.scratch()
        let missing = try run(["forward", "--weights", dir + "/nope.pth",
                                          "--input", models + "/tiny_topdown_input.npy", "--output", dir + "/o.npy"])
        XCTAssertEqual(missing.code, 1)
        XCTAssertTrue(missing.stderr.contains(dir + "/nope.pth"), missing.stderr)
        let badPipeline = try Fixtures.tinyPipeline(in: dir, replacing: [
            "frame_weights: [0.3, 0.1, 0.25, 0.25, 0.1]": "frame_weights: [0.3, oops, 0.25, 0.25, 0.1]",
        ])
        let bad = try run(["forward", "--weights", models + "/tiny_posewarper.pth", "--pipeline", badPipeline,
                                      "--input", models + "/tiny_posewarper_input.npy", "--output", dir + "/o.npy"])
        XCTAssertEqual(bad.code, 1)
        XCTAssertTrue(bad.stderr.contains(badPipeline + ":10"), bad.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/o.npy"), "nothing written on error")
    }
}
