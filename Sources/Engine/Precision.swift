import CKernels

/// The arithmetic of the convolutions' products. Float32 is the default and the reference; bfloat16
/// is an approximate opt-in mode for CPUs with AVX512-BF16.
public enum Precision: String, CaseIterable, Sendable {
    /// Float32 products (the default).
    case float32 = "fp32"
    /// Products of inputs rounded to bfloat16 (8-bit mantissa), summed in float32: approximate (about
    /// 3e-3 relative error per product), deterministic, faster where the CPU has AVX512-BF16.
    case bfloat16 = "bf16"

    /// The precision of convolutions called in this scope: set with `run(_:)`, float32 elsewhere. A
    /// scoped value (not a process-wide setting), so one caller's choice never changes another's results.
    @TaskLocal static var current: Precision = .float32

    /// Runs body with the convolutions it calls (on this thread or task) in this precision.
    /// Precondition: `problem` is nil.
    public func run<R>(_ body: () throws -> R) rethrows -> R {
        if self == Precision.current { return try body() }
        precondition(problem == nil, problem ?? "")
        return try Precision.$current.withValue(self, operation: body)
    }

    /// Why this precision cannot run here (names the missing CPU feature), or nil.
    public var problem: String? {
        switch self {
        case .float32: return nil
        case .bfloat16:
            if pw_bf16_supported() != 0 { return nil }
            if pw_bf16_cpu() != 0 {
                return "bf16 needs the AVX-512 kernels (AVX512-BF16), but they are capped to \(KernelTier.active.name) (PW_ISA)"
            }
            return "bf16 needs a CPU with AVX512-BF16 (AVX-512 bfloat16 dot products); this CPU (\(cpuDescription)) has none"
        }
    }

    /// For reports: "float32" or "bfloat16 (approximate)".
    public var name: String { self == .float32 ? "float32" : "bfloat16 (approximate)" }
}
