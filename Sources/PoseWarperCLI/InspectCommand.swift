import ArgumentParser

/// `posewarper inspect` (under construction on its own branch; replaced when it lands).
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "inspect", abstract: "Not available yet.")
    func run() throws { throw ValidationError("posewarper inspect is not available yet") }
}
