import ArgumentParser
import Engine

/// The `posewarper` command; each subcommand lives in its own file and is registered here.
@main
struct PoseWarperCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "posewarper",
        abstract: "Multi-person 2D keypoints from video with PoseWarper / HRNet, on the CPU.",
        version: "0.1.0",
        subcommands: [InspectCommand.self, ForwardCommand.self, ProbeCommand.self, RenderCommand.self, RunCommand.self, EvaluateCommand.self, DetectCommand.self, MergeCommand.self, PropagateCommand.self, ModelsCommand.self]
    )

    static func main() {
        MemoryReuse.enable()
        StopSignals.install()
        main(nil)
    }
}
