import Failures

/// Why a model could not be had by name. A failed or refused download is transient (exit 2: a
/// retry, a mirror or a copy placed by hand helps); a bundled file missing from the installation is
/// the user's (exit 1).
public struct ModelZooError: UserFacingError {
    public let description: String
    public let isInputProblem: Bool

    /// The download did not complete: the message names the URL and where to put the file by hand.
    static func downloadFailed(_ entry: ModelEntry, url: String, path: String, reason: String, resumable: Bool = false) -> ModelZooError {
        ModelZooError(description: "\(entry.name): download failed: \(reason) (\(url)). Download it by other means and put it at \(path), "
                      + "or set POSEWARPER_MODEL_BASE_URL to a mirror" + (resumable ? "; the next try resumes the partial download" : ""),
                      isInputProblem: false)
    }

    /// The downloaded bytes do not hash to the prefix the file name carries; they were deleted.
    static func hashMismatch(_ entry: ModelEntry, url: String, expected: String, actual: String) -> ModelZooError {
        ModelZooError(description: "\(entry.name): the file from \(url) has SHA-256 \(actual.prefix(expected.count))…, but its name says "
                      + "\(expected)…: refused and deleted (a corrupt download or a wrong mirror); try again",
                      isInputProblem: false)
    }

    /// The cache folder cannot be created or written.
    static func cacheNotWritable(_ folder: String, reason: String) -> ModelZooError {
        ModelZooError(description: "\(folder): cannot use the model cache: \(reason) (set XDG_CACHE_HOME to a writable folder)",
                      isInputProblem: false)
    }

    /// A file shipped with the repository is not where the registry says.
    static func bundledMissing(_ entry: ModelEntry, looked: [String]) -> ModelZooError {
        ModelZooError(description: "\(entry.name): \(entry.fileName) is not installed (looked in \(looked.joined(separator: ", "))); "
                      + "run from the source tree or pass --weights FILE", isInputProblem: true)
    }
}
