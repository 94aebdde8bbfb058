/// An error the user sees: its `description` names the file (or flag) and the problem, and
/// `isInputProblem` says whose it is. Every module's error type adopts it, so one mapping
/// (`ExitStatus.code(for:)`) gives every command the same exit codes.
public protocol UserFacingError: Error, CustomStringConvertible {
    /// True when something the user supplied is wrong (exit 1): a missing or malformed input file, a
    /// model that does not fit. False for outputs that could not be written and internal failures (exit 2).
    var isInputProblem: Bool { get }
}
