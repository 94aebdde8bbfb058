import ArgumentParser

/// `posewarper run` (under construction on its own branch; replaced when it lands).
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "Not available yet.")
    func run() throws { throw ValidationError("posewarper run is not available yet") }
}
