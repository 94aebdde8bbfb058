/// The exit codes of every `posewarper` command (the README's table).
public enum ExitStatus {
    /// Success; also when the keypoint stream's reader closed stdout (`| head`).
    public static let ok: Int32 = 0
    /// Bad input: the message names the file and the problem.
    public static let badInput: Int32 = 1
    /// An output could not be written (nothing existing was replaced), a model download failed or was
    /// refused, or an internal failure.
    public static let failed: Int32 = 2
    /// Bad command line (ArgumentParser's usage errors, EX_USAGE).
    public static let usage: Int32 = 64
    /// Stopped by SIGINT (Ctrl-C).
    public static let interrupted: Int32 = 130
    /// Stopped by SIGTERM.
    public static let terminated: Int32 = 143

    /// The exit code for an error a command failed with: 1 for the user's input, 2 otherwise.
    public static func code(for error: Error) -> Int32 {
        if let e = error as? UserFacingError { return e.isInputProblem ? badInput : failed }
        return failed
    }

    /// The exit code for a run stopped by `signal` (128 + the signal number, as shells report it).
    public static func code(forSignal signal: Int32) -> Int32 { 128 + signal }
}
