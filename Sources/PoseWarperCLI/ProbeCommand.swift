import ArgumentParser

/// `posewarper probe` (under construction on its own branch; replaced when it lands).
struct ProbeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "probe", abstract: "Not available yet.")
    func run() throws { throw ValidationError("posewarper probe is not available yet") }
}
