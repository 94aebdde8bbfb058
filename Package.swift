// swift-tools-version:6.1
import PackageDescription

// Hot numeric code is compiled without bounds checks in release builds; debug builds keep them.
let fast: [SwiftSetting] = [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]

let package = Package(
    name: "posewarper",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "posewarper", targets: ["PoseWarperCLI"]),
        .executable(name: "posewarper-bench", targets: ["Bench"]),
        .library(name: "PoseWarper", targets: ["Failures", "Tensors", "Keypoints", "Checkpoints", "Engine", "Models", "Video", "Pipeline", "Evaluation", "ModelZoo"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
    ],
    targets: [
        // System libraries (Debian: libopenblas-dev, libav*-dev, libfreetype-dev); `make deps` installs them.
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CFFmpeg", path: "Sources/CFFmpeg",
                       pkgConfig: "libavformat libavcodec libswscale libavutil",
                       providers: [.apt(["libavformat-dev", "libavcodec-dev", "libswscale-dev", "libavutil-dev"])]),
        // FreeType (Debian: libfreetype-dev) rasterises the overlay's label text.
        .systemLibrary(name: "CFreeType", path: "Sources/CFreeType", pkgConfig: "freetype2",
                       providers: [.apt(["libfreetype-dev"]), .brew(["freetype"])]),
        // Small C kernels (vectorised inner loops) used by Engine.
        .target(name: "CKernels", path: "Sources/CKernels",
                cSettings: [.unsafeFlags(["-O3", "-ffast-math", "-fno-finite-math-only"])]),

        // User-facing errors, exit codes and temporary output files: shared by every module.
        .target(name: "Failures"),
        .target(name: "Tensors", dependencies: ["Failures"], swiftSettings: fast),
        .target(name: "Keypoints", dependencies: ["Failures"]),
        .target(name: "Checkpoints", dependencies: ["Tensors", "Failures"],
                swiftSettings: fast),
        .target(name: "Engine", dependencies: ["Tensors", "CBLAS", "CKernels"], swiftSettings: fast),
        .target(name: "Models", dependencies: ["Tensors", "Engine", "Checkpoints", "Keypoints", "Failures"], swiftSettings: fast),
        .target(name: "Video", dependencies: ["CFFmpeg", "CFreeType", "Keypoints", "Failures"], swiftSettings: fast),
        .target(name: "Evaluation", dependencies: ["Keypoints", "Failures"]),
        // Official checkpoints by name: the registry, the user cache, verified resumable downloads.
        .target(name: "ModelZoo", dependencies: ["Failures"], swiftSettings: fast),
        .target(name: "Pipeline", dependencies: ["Tensors", "Engine", "Checkpoints", "Models", "Video", "Keypoints", "Failures",
                                                 .product(name: "Yams", package: "Yams")], swiftSettings: fast),
        .executableTarget(name: "PoseWarperCLI", dependencies: [
            "Tensors", "Keypoints", "Checkpoints", "Engine", "Models", "Video", "Pipeline", "Failures", "Evaluation", "ModelZoo",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        .executableTarget(name: "Bench", dependencies: [
            "Tensors", "Keypoints", "Checkpoints", "Engine", "Models", "Video", "Pipeline",
        ], swiftSettings: fast),

        .executableTarget(name: "PoseWarperExample", dependencies: ["Pipeline"], path: "Samples/Example"),
        .testTarget(name: "TensorsTests", dependencies: ["Tensors"]),
        .testTarget(name: "KeypointsTests", dependencies: ["Keypoints"]),
        .testTarget(name: "CheckpointsTests", dependencies: ["Checkpoints", "Tensors"], resources: [.copy("Fixtures")]),
        .testTarget(name: "EngineTests", dependencies: ["Engine", "Tensors"], resources: [.copy("Fixtures")]),
        .testTarget(name: "ModelsTests", dependencies: ["Models", "Engine", "Checkpoints", "Tensors", "Keypoints"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "DetectorTests", dependencies: ["Models", "Engine", "Checkpoints", "Tensors"], resources: [.copy("Fixtures")]),
        .testTarget(name: "VideoTests", dependencies: ["Video", "Keypoints", "Failures"]),
        .testTarget(name: "EvaluationTests", dependencies: ["Evaluation", "Keypoints"], resources: [.copy("Fixtures")]),
        .testTarget(name: "ModelZooTests", dependencies: ["ModelZoo", "Failures"]),
        .testTarget(name: "PipelineTests", dependencies: ["Pipeline", "Models", "Video", "Keypoints", "Tensors", "Failures", "Checkpoints"], resources: [.copy("Fixtures")]),
    ],
    swiftLanguageModes: [.v5]
)
