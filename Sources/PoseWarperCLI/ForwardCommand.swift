import ArgumentParser

/// `posewarper forward` (under construction on its own branch; replaced when it lands).
struct ForwardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "forward", abstract: "Not available yet.")
    func run() throws { throw ValidationError("posewarper forward is not available yet") }
}
