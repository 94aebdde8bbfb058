import ArgumentParser

/// `posewarper render` (under construction on its own branch; replaced when it lands).
struct RenderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "render", abstract: "Not available yet.")
    func run() throws { throw ValidationError("posewarper render is not available yet") }
}
