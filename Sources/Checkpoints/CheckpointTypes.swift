// Public vocabulary of the Checkpoints module: formats, element types, entries and the one error type.
import Failures

/// The container format a checkpoint was read from.
public enum CheckpointFormat: String, Sendable { case zip, legacy, safetensors }

/// The element type of a stored tensor (named like torch dtypes).
public enum DType: String, Sendable, CaseIterable {
    case float32, float16, bfloat16, float64, int64, int32, int16, int8, uint8, bool

    /// Bytes per element on disk.
    public var byteCount: Int {
        switch self {
        case .float64, .int64: return 8
        case .float32, .int32: return 4
        case .float16, .bfloat16, .int16: return 2
        case .int8, .uint8, .bool: return 1
        }
    }
}

/// One named tensor of a checkpoint (after layout resolution).
public struct CheckpointEntry: Sendable, Equatable {
    public let name: String
    public let dtype: DType
    public let shape: [Int]

    /// The number of elements (1 for a scalar).
    public var elementCount: Int { shape.reduce(1, *) }
}

/// Why a checkpoint could not be read; `description` names the file and the problem.
public struct CheckpointError: UserFacingError, Sendable {
    public let path: String
    public let problem: String
    /// A checkpoint is always something the user supplied.
    public var isInputProblem: Bool { true }

    public init(path: String, problem: String) {
        self.path = path
        self.problem = problem
    }

    public var description: String { "\(path): \(problem)" }
}

/// A problem found while decoding, before the file path is attached (internal).
struct FormatError: Error {
    let problem: String
    init(_ problem: String) { self.problem = problem }
}
