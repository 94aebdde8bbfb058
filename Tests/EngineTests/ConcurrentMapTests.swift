@testable import Engine
import Foundation
import XCTest

/// `concurrentMap` (HRNet branches, windows' necks side by side): results in index order, every task
/// in the caller's precision (a task-local value the worker threads would not see by themselves).
final class ConcurrentMapTests: XCTestCase {
    func testResultsComeInIndexOrder() {
        EngineThreads.set(2)
        defer { EngineThreads.set(ProcessInfo.processInfo.activeProcessorCount) }
        let squares = concurrentMap(37) { i -> Int in
            if i % 5 == 0 { usleep(200) }   // finish out of order
            return i * i
        }
        XCTAssertEqual(squares, (0..<37).map { $0 * $0 })
    }

    func testAtMostTheEngineThreadsRunAtOnce() {
        EngineThreads.set(2)
        defer { EngineThreads.set(ProcessInfo.processInfo.activeProcessorCount) }
        let lock = NSLock()
        var running = 0, most = 0
        _ = concurrentMap(12) { _ -> Int in
            lock.lock(); running += 1; most = max(most, running); lock.unlock()
            usleep(1000)
            lock.lock(); running -= 1; lock.unlock()
            return 0
        }
        XCTAssertLessThanOrEqual(most, 2)
        XCTAssertGreaterThanOrEqual(most, 1)
    }

    func testTasksRunInTheCallersPrecision() throws {
        try XCTSkipIf(Precision.bfloat16.problem != nil, Precision.bfloat16.problem ?? "")
        EngineThreads.set(2)
        defer { EngineThreads.set(ProcessInfo.processInfo.activeProcessorCount) }
        // Tasks long enough that the worker threads take some of them.
        let seen = Precision.bfloat16.run { concurrentMap(8) { _ -> (Precision, Bool) in
            usleep(2000)
            return (Precision.current, Thread.isMainThread)
        } }
        XCTAssertEqual(seen.map(\.0), Array(repeating: .bfloat16, count: 8))
        XCTAssertTrue(seen.contains { !$0.1 }, "no task ran on a worker thread")
        XCTAssertEqual(concurrentMap(8) { _ in Precision.current }, Array(repeating: .float32, count: 8))
    }

    /// `posewarper-bench layers` charges each layer the process's CPU time while it runs, so while a
    /// profile is collected the tasks run one after another on the caller's thread.
    func testTasksRunOneAfterAnotherWhileALayerProfileIsCollected() {
        EngineThreads.set(2)
        defer { EngineThreads.set(ProcessInfo.processInfo.activeProcessorCount) }
        LayerProfile.start()
        let onCaller = concurrentMap(6) { _ -> Bool in usleep(1000); return Thread.isMainThread }
        _ = LayerProfile.stop()
        XCTAssertEqual(onCaller, Array(repeating: true, count: 6))
    }

    /// The engine's parallel loops (worker_pool.c): every chunk runs exactly once, also when loops
    /// are started from several threads at once and from inside other loops' chunks.
    func testEveryChunkRunsOnceFromConcurrentAndNestedLoops() {
        EngineThreads.set(2)
        defer { EngineThreads.set(ProcessInfo.processInfo.activeProcessorCount) }
        let callers = 4, rounds = 200, count = 64
        let lock = NSLock()
        var hits = Array(repeating: 0, count: callers * count * 3)
        DispatchQueue.concurrentPerform(iterations: callers) { caller in
            for _ in 0..<rounds {
                parallelChunks(count) { r in
                    for i in r {
                        // a loop inside a chunk runs on that chunk's thread
                        parallelChunks(2) { inner in
                            lock.lock(); for j in inner { hits[(caller * count + i) * 3 + 1 + j] += 1 }; lock.unlock()
                        }
                        lock.lock(); hits[(caller * count + i) * 3] += 1; lock.unlock()
                    }
                }
            }
        }
        XCTAssertEqual(hits, Array(repeating: rounds, count: callers * count * 3))
    }

    /// A loop's chunks run side by side: each chunk waits for the other to start (a two-thread
    /// rendezvous), which only completes when a worker takes one of them.
    func testALoopRunsOnTwoThreadsAtOnce() {
        EngineThreads.set(2)
        defer { EngineThreads.set(ProcessInfo.processInfo.activeProcessorCount) }
        let started = [DispatchSemaphore(value: 0), DispatchSemaphore(value: 0)]
        let lock = NSLock()
        var met = 0
        performChunks(2, threads: 2) { i in
            started[i].signal()
            if started[1 - i].wait(timeout: .now() + 5) == .success { lock.lock(); met += 1; lock.unlock() }
        }
        XCTAssertEqual(met, 2, "the two chunks did not run at the same time")
    }
}
