// swift-tools-version:6.1
// libFuzzer harnesses for the checkpoint readers and the keypoint stream reader. Sources/Checkpoints,
// Tensors, Keypoints and Failures are symlinks to the main package's modules, so only those are built
// with the sanitizers.
//   cd Tools/fuzz && swift build -c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library
//   .build/release/CheckpointFuzz -max_total_time=300 -rss_limit_mb=2048 corpus ../../Tests/CheckpointsTests/Fixtures
//   .build/release/KeypointStreamFuzz -max_total_time=600 -timeout=10 stream-corpus
//   .build/release/BoxesFileFuzz -max_total_time=600 -timeout=10 boxes-corpus
import PackageDescription

let package = Package(
    name: "CheckpointFuzz",
    targets: [
        .target(name: "Failures", path: "Sources/Failures"),
        .target(name: "Tensors", dependencies: ["Failures"], path: "Sources/Tensors"),
        .target(name: "Checkpoints", dependencies: ["Tensors", "Failures"], path: "Sources/Checkpoints"),
        .target(name: "Keypoints", dependencies: ["Failures"], path: "Sources/Keypoints"),
        .executableTarget(name: "CheckpointFuzz", dependencies: ["Checkpoints", "Tensors"]),
        .executableTarget(name: "KeypointStreamFuzz", dependencies: ["Keypoints"]),
        // The boxes reader's files (BoxesFile, PersonBox, PipelineError), without the rest of Pipeline.
        .target(name: "BoxesParsing", dependencies: ["Failures"], path: "Sources/BoxesParsing"),
        .executableTarget(name: "BoxesFileFuzz", dependencies: ["BoxesParsing"]),
    ],
    swiftLanguageModes: [.v5]
)
