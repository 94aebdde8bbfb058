import ArgumentParser
import Engine

extension Precision: ExpressibleByArgument {}

extension Precision {
    /// The `--precision` help, shared by the commands that run a pose network.
    static let help = ArgumentHelp(
        "Pose network arithmetic: fp32, or bf16 (approximate: products of bfloat16-rounded values; needs a CPU with AVX512-BF16). Default: the pipeline's model.precision, else fp32.",
        valueName: "fp32|bf16")

    /// Rejects (as a usage error) a `--precision` this machine cannot run, naming the missing CPU feature.
    static func validate(_ precision: Precision?) throws {
        if let precision, let problem = precision.problem {
            throw ValidationError("--precision \(precision.rawValue): \(problem)")
        }
    }
}
