import CKernels

/// Keeps freed tensor memory in the process for the next tensor instead of returning it to the
/// system: glibc otherwise maps every large tensor afresh and unmaps it when freed, and the page
/// faults of touching new pages cost about a fifth of a forward's CPU time (system time) on
/// small models. Peak memory stays about that of the largest forward.
public enum MemoryReuse {
    /// Applies the allocator settings (idempotent; a no-op off glibc). Call once at process start.
    public static func enable() { pw_keep_freed_memory() }
}
