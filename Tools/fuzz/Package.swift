// swift-tools-version:6.1
// libFuzzer harness for the checkpoint readers. Sources/Checkpoints and Sources/Tensors are
// symlinks to the main package's modules, so only those two are built with the sanitizers.
//   cd Tools/fuzz && swift build -c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library
//   .build/release/CheckpointFuzz -max_total_time=300 -rss_limit_mb=2048 corpus ../../Tests/CheckpointsTests/Fixtures
import PackageDescription

let package = Package(
    name: "CheckpointFuzz",
    targets: [
        .target(name: "Tensors", path: "Sources/Tensors"),
        .target(name: "Checkpoints", dependencies: ["Tensors"], path: "Sources/Checkpoints"),
        .executableTarget(name: "CheckpointFuzz", dependencies: ["Checkpoints", "Tensors"]),
    ],
    swiftLanguageModes: [.v5]
)
