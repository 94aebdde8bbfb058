import Failures
import Foundation

/// Why a run could not start or stopped: bad input (the user can fix it), an output that could not
/// be written, or an internal failure.
public struct PipelineError: UserFacingError {
    /// What kind of failure this is; `ExitStatus` maps it to the exit code (1, 2, 2).
    public enum Kind: Sendable { case badInput, outputNotWritten, internalFailure }

    public let kind: Kind
    public let description: String

    public var isInputProblem: Bool { kind == .badInput }

    /// A problem with something the user supplied; the message names the file and the problem.
    public static func badInput(_ message: String) -> PipelineError { PipelineError(kind: .badInput, description: message) }
    /// An output that cannot be (or could not be) written; the message names it. Nothing existing
    /// at its path was replaced.
    public static func outputNotWritten(_ message: String) -> PipelineError {
        PipelineError(kind: .outputNotWritten, description: message)
    }
    /// A problem in posewarper itself (a bug or an environment failure).
    public static func internalFailure(_ message: String) -> PipelineError {
        PipelineError(kind: .internalFailure, description: message)
    }
    /// A problem at a line of a file: "file:line: reason".
    public static func at(_ file: String, line: Int?, _ reason: String) -> PipelineError {
        .badInput(line.map { "\(file):\($0): \(reason)" } ?? "\(file): \(reason)")
    }
}

/// Thrown when the consumer of a stream output went away (e.g. `| head -1` closed stdout).
public struct OutputClosed: Error, CustomStringConvertible {
    public let path: String
    public var description: String { "\(path): the reader closed the stream" }
}
