import Engine
import Foundation
import Pipeline
import Tensors
import Video
import XCTest

/// The persons of a window go through the backbone in batches, and small windows' necks run side by
/// side, with the same bits as one crop and one window at a time: the shipped PoseWarper (widths
/// 16–128, so Winograd and the batched GEMM both run) over frames with up to three moving persons.
final class PersonBatchTests: XCTestCase {
    let config = try! PipelineFile.load(Fixtures.packageRoot.appendingPathComponent("Models/posewarper-hrnet-w16-synth-128x96.yml").path)
    lazy var network = PoseModelNetwork(model: try! PoseJob.loadModel(config), config: config)
    lazy var crops = TopDownCropStage(model: config.model, padding: config.persons.bboxPadding)

    /// Random frames; frame i has `persons(i)` boxes.
    func frames(_ count: Int, persons: (Int) -> Int) -> [PipelineFrame] {
        let (width, height) = (160, 120)
        var state: UInt64 = 5
        return (0..<count).map { i in
            var f = PipelineFrame(frame: VideoFrame(index: i, time: Double(i) / 25, pts: Int64(i), width: width, height: height,
                       rgb: (0..<(width * height * 3)).map { _ in
                           state = state &* 6364136223846793005 &+ 1442695040888963407
                           return UInt8(truncatingIfNeeded: state >> 56)
                       }))
            for p in 0..<persons(i) {
                let x = Double(10 + 40 * p + 2 * i), y = Double(8 + i), h = Double(90 - 3 * p)
                f.boxes.append(PersonBox(x: x, y: y, width: 40, height: h))
            }
            return f
        }
    }

    /// The frames the stage hands on, in order.
    func run(_ frames: [PipelineFrame], maxBatch: Int? = nil, concurrentWindows: Int = 1,
             network: PoseNetwork? = nil) throws -> [PipelineFrame] {
        let stage = PoseEstimationStage(crops: crops, network: network ?? self.network, frameOffsets: config.temporal.frameOffsets,
                                        maxBatch: maxBatch, concurrentWindows: concurrentWindows)
        var out: [PipelineFrame] = []
        for f in frames { out += try stage.process(f) }
        return out + (try stage.flush())
    }

    func testBatchedPersonsGiveTheSameHeatmapsAsOneCropPerCall() throws {
        XCTAssertEqual(PoseEstimationStage.defaultBatch(height: crops.inputHeight, width: crops.inputWidth), 16)
        let input = frames(7) { _ in 3 }
        let one = try run(input, maxBatch: 1).compactMap(\.heatmaps), batched = try run(input, maxBatch: 16).compactMap(\.heatmaps)
        XCTAssertEqual(one.count, input.count)
        XCTAssertEqual(batched.count, input.count)
        for (i, (a, b)) in zip(one, batched).enumerated() {
            XCTAssertEqual(a.shape, [3, 17, 32, 24], "frame \(i)")
            XCTAssertFalse(a.storage.contains { !$0.isFinite })
            XCTAssertEqual(a.storage, b.storage, "frame \(i)")
        }
    }

    func testWindowsRunSideBySideGiveTheSameFramesInOrder() throws {
        // Persons come and go (frames without anyone pass between windows that have a neck to run).
        let counts = [1, 2, 0, 3, 1, 0, 0, 2, 1]
        let input = frames(counts.count) { counts[$0] }
        let alone = try run(input, concurrentWindows: 1)
        for side in [2, 3] {
            let together = try run(input, concurrentWindows: side)
            XCTAssertEqual(together.map(\.frame.index), Array(0..<counts.count), "\(side) side by side: every frame, in order")
            for (a, b) in zip(alone, together) {
                XCTAssertEqual(b.heatmaps?.shape, counts[a.frame.index] == 0 ? nil : [counts[a.frame.index], 17, 32, 24])
                XCTAssertEqual(a.heatmaps?.storage, b.heatmaps?.storage, "frame \(a.frame.index), \(side) side by side")
                XCTAssertEqual(a.crops.count, b.crops.count)
                XCTAssertFalse(b.heatmaps?.storage.contains { !$0.isFinite } ?? false)
            }
        }
    }

    /// Queuing windows to run side by side holds at most `heldFrames` frames beyond the window's
    /// look-ahead, also through stretches without persons: the detector stage's keypoint feedback
    /// waits for exactly that frame, so holding more would deadlock a run.
    func testFramesAreHeldAtMostHeldFramesBeyondTheLookAhead() throws {
        let counts = [1, 0, 0, 0, 0, 0, 1, 0, 1, 1, 0, 0, 0]
        let input = frames(counts.count) { counts[$0] }
        let stage = PoseEstimationStage(crops: crops, network: network, frameOffsets: config.temporal.frameOffsets)
        XCTAssertEqual(stage.heldFrames, PoseEstimationStage.defaultConcurrentWindows - 1)
        var released = -1
        for (i, f) in input.enumerated() {
            for out in try stage.process(f) {
                XCTAssertEqual(out.frame.index, released + 1, "in order")
                released = out.frame.index
            }
            XCTAssertGreaterThanOrEqual(released, i - config.lookAhead - stage.heldFrames, "after frame \(i)")
        }
        released = try stage.flush().last?.frame.index ?? released
        XCTAssertEqual(released, counts.count - 1)
    }

    /// A crowded frame's persons go through the neck in groups of `personsPerNeck` (bounded memory):
    /// each group's heatmaps are those of a frame holding only that group, in box order.
    func testCrowdedFramesGoThroughTheNeckInGroups() throws {
        let group = PoseEstimationStage.personsPerNeck, crowd = group + 2
        let input = frames(5) { _ in crowd }
        let keep = { (range: Range<Int>) in input.map { f -> PipelineFrame in
            var g = f
            g.boxes = Array(f.boxes[range])
            return g
        } }
        for side in [1, 2] {
            let counted = PersonCounting(network)
            let all = try run(input, concurrentWindows: side, network: counted)
            XCTAssertEqual(counted.personsPerCall.max(), group, "persons in one neck call")
            XCTAssertEqual(counted.personsPerCall.reduce(0, +), crowd * input.count)
            let first = try run(keep(0..<group), concurrentWindows: side), rest = try run(keep(group..<crowd), concurrentWindows: side)
            for (i, frame) in all.enumerated() {
                let heatmaps = try XCTUnwrap(frame.heatmaps)
                XCTAssertEqual(heatmaps.shape, [crowd, 17, 32, 24])
                XCTAssertEqual(frame.crops.count, crowd)
                XCTAssertEqual(sliceBatch(heatmaps, start: 0, count: group).storage, first[i].heatmaps?.storage, "frame \(i)")
                XCTAssertEqual(sliceBatch(heatmaps, start: group, count: 2).storage, rest[i].heatmaps?.storage, "frame \(i)")
            }
        }
    }
}

/// A network that records how many persons each neck call gets.
private final class PersonCounting: PoseNetwork, @unchecked Sendable {
    let base: PoseNetwork
    private let lock = NSLock()
    private var calls: [Int] = []
    init(_ base: PoseNetwork) { self.base = base }
    var personsPerCall: [Int] { lock.lock(); defer { lock.unlock() }; return calls }
    func encode(_ crops: Tensor) -> Tensor { base.encode(crops) }
    func heatmaps(from encodings: [Tensor]) -> Tensor {
        lock.lock(); calls.append(encodings[0].shape[0]); lock.unlock()
        return base.heatmaps(from: encodings)
    }
}
