import Foundation

/// Why a run could not start or stopped: bad input (the user can fix it) or an internal failure.
public struct PipelineError: Error, CustomStringConvertible {
    /// What kind of failure this is; the CLI maps it to its exit code.
    public enum Kind: Sendable { case badInput, internalFailure }

    public let kind: Kind
    public let description: String

    /// A problem with something the user supplied; the message names the file and the problem.
    public static func badInput(_ message: String) -> PipelineError { PipelineError(kind: .badInput, description: message) }
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
