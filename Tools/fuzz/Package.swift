// swift-tools-version:6.1
// libFuzzer harnesses for the checkpoint readers, the keypoint stream reader, the boxes and labels
// JSON readers and the pipeline YAML reader. The folders under Sources/ that are not harnesses are
// symlinks to the main package's modules (Pipeline needs all of them), so they are built here with
// the sanitizers and with bounds and overflow checks on (no -Ounchecked).
//   cd Tools/fuzz && swift build -c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library
//   .build/release/CheckpointFuzz -max_total_time=300 -rss_limit_mb=2048 corpus ../../Tests/CheckpointsTests/Fixtures
//   .build/release/KeypointStreamFuzz -max_total_time=600 -timeout=10 stream-corpus
//   .build/release/BoxesFileFuzz -max_total_time=600 -timeout=10 boxes-corpus
//   .build/release/PipelineFileFuzz -max_total_time=600 -timeout=10 -dict=pipeline.dict pipeline-corpus ../../Pipelines ../../Models
//   .build/release/LabelsFileFuzz -max_total_time=600 -timeout=10 labels-corpus
// (Seed corpora: copy the *.yml files / label JSON you want into the corpus folder first; libFuzzer
// reads every folder given, and writes new inputs to the first.) Run with SWIFT_BACKTRACE=enable=no:
// otherwise a Swift trap starts the runtime's backtracer, which can hang instead of letting
// libFuzzer report the crash and write the input.
import PackageDescription

let package = Package(
    name: "CheckpointFuzz",
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
    ],
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
        // The whole Pipeline module and what it depends on, for the pipeline YAML and labels readers.
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas"),
        .systemLibrary(name: "CFFmpeg", path: "Sources/CFFmpeg", pkgConfig: "libavformat libavcodec libswscale libavutil"),
        .systemLibrary(name: "CFreeType", path: "Sources/CFreeType", pkgConfig: "freetype2"),
        .target(name: "CKernels", path: "Sources/CKernels", cSettings: [.unsafeFlags(["-O3", "-ffast-math", "-fno-finite-math-only"])]),
        .target(name: "Engine", dependencies: ["Tensors", "CBLAS", "CKernels"], path: "Sources/Engine"),
        .target(name: "Models", dependencies: ["Tensors", "Engine", "Checkpoints", "Keypoints", "Failures"], path: "Sources/Models"),
        .target(name: "Video", dependencies: ["CFFmpeg", "CFreeType", "Keypoints", "Failures"], path: "Sources/Video"),
        .target(name: "Pipeline", dependencies: ["Tensors", "Engine", "Checkpoints", "Models", "Video", "Keypoints", "Failures",
                                                 .product(name: "Yams", package: "Yams")], path: "Sources/Pipeline"),
        .executableTarget(name: "PipelineFileFuzz", dependencies: ["Pipeline", "Keypoints"]),
        .executableTarget(name: "LabelsFileFuzz", dependencies: ["Pipeline", "Keypoints"]),
    ],
    swiftLanguageModes: [.v5]
)
