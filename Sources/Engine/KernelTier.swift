import CKernels

/// The instruction-set tier of the C kernels (one C file each in Sources/CKernels), chosen once per
/// process from the CPU's features and capped by the `PW_ISA` environment variable (0, 1 or 2).
public enum KernelTier: Int32, CaseIterable, Comparable, Sendable {
    case portable = 0   // PW_ISA_PORTABLE
    case avx2 = 1       // PW_ISA_AVX2: AVX2 + FMA
    case avx512 = 2     // PW_ISA_AVX512: F, VL, DQ, BW

    /// The tier the kernels run on.
    public static var active: KernelTier { KernelTier(rawValue: pw_isa_level()) ?? .portable }

    /// Every tier this CPU can run, lowest first.
    public static var supported: [KernelTier] { allCases.filter { $0.rawValue <= pw_isa_supported() } }

    /// Runs body with the kernels forced to `tier` (at most the best supported), then restores the
    /// previous tier. For tests and comparisons only: no other thread may run kernels meanwhile.
    public static func with<R>(_ tier: KernelTier, _ body: () throws -> R) rethrows -> R {
        let previous = pw_isa_level()
        pw_isa_force(tier.rawValue)
        defer { pw_isa_force(previous) }
        return try body()
    }

    /// A short name for reports ("AVX-512", "AVX2+FMA", "portable C").
    public var name: String {
        switch self {
        case .portable: return "portable C"
        case .avx2: return "AVX2+FMA"
        case .avx512: return "AVX-512"
        }
    }

    public static func < (a: KernelTier, b: KernelTier) -> Bool { a.rawValue < b.rawValue }
}
