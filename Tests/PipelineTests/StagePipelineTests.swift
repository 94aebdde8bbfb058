import Foundation
import Keypoints
import XCTest
@testable import Pipeline

/// The stage list itself: order through any stages, held frames released at the end, per-stage
/// seconds, a closed output ending the run quietly, the first error stopping everything.
final class StagePipelineTests: XCTestCase {
    /// Holds each frame back until the next one arrives (like a temporal window of look-ahead 1).
    final class DelayByOne: PipelineStage {
        let name = "delay"
        var held: PipelineFrame?
        func process(_ frame: PipelineFrame) throws -> [PipelineFrame] {
            defer { held = frame }
            return held.map { [$0] } ?? []
        }
        func flush() throws -> [PipelineFrame] { held.map { [$0] } ?? [] }
    }

    final class Recording: PipelineStage {
        let name = "record"
        var indices: [Int] = []
        var failAt: Int?
        var closeAt: Int?
        func process(_ frame: PipelineFrame) throws -> [PipelineFrame] {
            if frame.frame.index == failAt { throw PipelineError.badInput("frame \(frame.frame.index) is broken") }
            if frame.frame.index == closeAt { throw OutputClosed(path: "stdout") }
            indices.append(frame.frame.index)
            return [frame]
        }
    }

    func testFramesKeepTheirOrderThroughHoldingStagesAndFlushAtTheEnd() throws {
        let record = Recording()
        let pipeline = StagePipeline(stages: [DelayByOne(), DelayByOne(), record], queueCapacity: 1)
        let source = SyntheticSource(count: 25)
        let summary = try pipeline.run(source: source, description: describe(source))
        XCTAssertEqual(record.indices, Array(0..<25))
        XCTAssertEqual(summary.frames, 25)
        XCTAssertNotNil(summary.stageSeconds["delay"])
        XCTAssertNotNil(summary.stageSeconds["record"])
        XCTAssertNotNil(summary.stageSeconds["decode"])
    }

    func testAClosedOutputEndsTheRunQuietly() throws {
        let record = Recording()
        record.closeAt = 7
        let source = SyntheticSource(count: 100)
        let summary = try StagePipeline(stages: [DelayByOne(), record]).run(source: source, description: describe(source))
        XCTAssertTrue(summary.outputClosed)
        XCTAssertEqual(record.indices, Array(0..<7))
        XCTAssertEqual(summary.frames, 7)
    }

    func testTheFirstErrorStopsEveryStage() {
        let record = Recording()
        record.failAt = 3
        let source = SyntheticSource(count: 1000)
        XCTAssertThrowsError(try StagePipeline(stages: [DelayByOne(), record]).run(source: source, description: describe(source))) {
            XCTAssertEqual("\($0)", "frame 3 is broken")
        }
        XCTAssertEqual(record.indices, [0, 1, 2])
        XCTAssertLessThan(source.produced, 20, "the source stops soon after the failure")
    }

    func testTheJobBuildsTheDocumentedStageList() {
        let (job, _) = fakeJob()
        let stages = job.stages(persons: WholeFramePersons(), outputs: [])
        XCTAssertEqual(stages.map(\.name), ["persons", "network", "keypoint decoding", "tracking", "outputs"])
        // The network and the outputs get queues of their own; light stages ride along, so no more
        // frames are in flight than the memory test allows.
        XCTAssertEqual(StagePipeline(stages: stages).queues.map { $0.map { stages[$0].name } },
                       [["persons"], ["network", "keypoint decoding", "tracking"], ["outputs"]])
    }
}
