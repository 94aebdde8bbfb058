// Counting learnable parameters the way model summaries do.

extension Checkpoint {
    /// True for BatchNorm running statistics and `num_batches_tracked`: buffers, not parameters.
    public static func isBufferName(_ name: String) -> Bool {
        let last = name.split(separator: ".").last.map(String.init) ?? name
        return last == "running_mean" || last == "running_var" || last == "num_batches_tracked"
    }

    /// Elements of every tensor except BN running statistics and `num_batches_tracked`
    /// (what `sum(p.numel() for p in model.parameters())` reports for the same model).
    public var parameterCount: Int {
        entries.filter { !Checkpoint.isBufferName($0.name) }.reduce(0) { $0 + $1.elementCount }
    }
}
