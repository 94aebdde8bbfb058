import Foundation

/// A first-in first-out queue between two stages that blocks the producer when full (back-pressure)
/// and the consumer when empty. `close()` ends the stream: pop returns nil once drained.
/// `cancel()` drops everything and wakes both sides.
public final class BoundedQueue<Element> {
    private var items: [Element] = []
    private var head = 0
    private let capacity: Int
    private let condition = NSCondition()
    private var closed = false
    private var cancelled = false

    public init(capacity: Int) {
        precondition(capacity > 0)
        self.capacity = capacity
    }

    /// Appends, waiting while the queue is full; returns false when the queue was cancelled or closed.
    @discardableResult
    public func push(_ item: Element) -> Bool {
        condition.lock(); defer { condition.unlock() }
        while items.count - head >= capacity && !cancelled && !closed { condition.wait() }
        guard !cancelled, !closed else { return false }
        items.append(item)
        condition.broadcast()
        return true
    }

    /// Appends only if there is room now (never waits); false when full, cancelled or closed.
    public func tryPush(_ item: Element) -> Bool {
        condition.lock(); defer { condition.unlock() }
        guard !cancelled, !closed, items.count - head < capacity else { return false }
        items.append(item)
        condition.broadcast()
        return true
    }

    /// Removes the oldest element, waiting while empty; nil after close (once drained) or cancel.
    public func pop() -> Element? {
        condition.lock(); defer { condition.unlock() }
        while items.count == head && !closed && !cancelled { condition.wait() }
        guard !cancelled, items.count > head else { return nil }
        let item = items[head]
        head += 1
        if head > 64 && head * 2 > items.count { items.removeFirst(head); head = 0 }
        condition.broadcast()
        return item
    }

    /// No more elements will come; the consumer drains what is queued.
    public func close() {
        condition.lock(); closed = true; condition.broadcast(); condition.unlock()
    }

    /// Abandons the stream: queued elements are dropped, both sides return at once.
    public func cancel() {
        condition.lock(); cancelled = true; items.removeAll(); head = 0; condition.broadcast(); condition.unlock()
    }

    /// Neither closed nor cancelled.
    public var isOpen: Bool {
        condition.lock(); defer { condition.unlock() }
        return !closed && !cancelled
    }

    /// Elements waiting (for tests and progress).
    public var count: Int {
        condition.lock(); defer { condition.unlock() }
        return items.count - head
    }
}
