import Foundation

/// A lock-protected pool of reusable float buffers: calls on several threads each borrow their own
/// buffer, and large im2col buffers are not re-faulted on every call.
final class ScratchPool: @unchecked Sendable {
    static let shared = ScratchPool()
    private let lock = NSLock()
    private var free: [(pointer: UnsafeMutablePointer<Float>, capacity: Int)] = []
    private let keep = 8

    /// Runs body with a buffer of at least `count` floats (contents undefined).
    func withBuffer<R>(_ count: Int, _ body: (UnsafeMutablePointer<Float>) throws -> R) rethrows -> R {
        let buffer = take(max(count, 1))
        defer { give(buffer) }
        return try body(buffer.pointer)
    }

    private func take(_ count: Int) -> (pointer: UnsafeMutablePointer<Float>, capacity: Int) {
        lock.lock()
        // Smallest free buffer that fits.
        var best = -1
        for (i, b) in free.enumerated() where b.capacity >= count {
            if best < 0 || b.capacity < free[best].capacity { best = i }
        }
        if best >= 0 { let b = free.remove(at: best); lock.unlock(); return b }
        lock.unlock()
        return (UnsafeMutablePointer<Float>.allocate(capacity: count), count)
    }

    private func give(_ buffer: (pointer: UnsafeMutablePointer<Float>, capacity: Int)) {
        lock.lock()
        free.append(buffer)
        if free.count > keep {
            // Drop the smallest: the large ones are the expensive ones to re-fault.
            let i = free.indices.min { free[$0].capacity < free[$1].capacity }!
            let dropped = free.remove(at: i)
            lock.unlock()
            dropped.pointer.deallocate()
            return
        }
        lock.unlock()
    }
}
