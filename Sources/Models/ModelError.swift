import Failures

/// Why a checkpoint cannot become a model; the message names the file and the problem.
public struct ModelError: UserFacingError {
    public let description: String
    /// The checkpoint (or the settings given with it) is the user's.
    public var isInputProblem: Bool { true }
    public init(_ description: String) { self.description = description }
}
