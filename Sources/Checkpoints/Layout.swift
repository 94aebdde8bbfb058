// Finding the state dict inside a torch checkpoint object (mmpose/mmdet, plain, DataParallel).

enum StateDictLayout {
    /// The tensors in state-dict order with names resolved, and the `meta` dict if present.
    ///
    /// mmcv's load_checkpoint: use `state_dict` if present, else the object itself; we also accept
    /// `{'model': ...}` (detectron/torchvision reference scripts). Like mmcv's default
    /// revise_keys, a leading `module.` (DataParallel) is removed from every key. Nested dicts of
    /// tensors are flattened with dots, matching what nn.Module.state_dict would have produced.
    static func resolve(_ root: PickleNode) throws -> (tensors: [(String, TensorRef)], meta: PickleNode?) {
        guard case .dict(let top) = root else { throw FormatError("checkpoint object is not a dict (no state dict found)") }
        var stateDict = top
        let meta = top.value(forString: "meta")
        if case .dict(let sd)? = top.value(forString: "state_dict") {
            stateDict = sd
        } else if case .dict(let model)? = top.value(forString: "model") {
            stateDict = model
        }
        var tensors: [(String, TensorRef)] = []
        var seen = Set<String>()
        var budget = 5_000_000
        try flatten(stateDict, prefix: "", depth: 0, budget: &budget, into: &tensors, seen: &seen, skipMeta: stateDict === top)
        guard !tensors.isEmpty else { throw FormatError("checkpoint holds no tensors") }
        return (tensors, meta)
    }

    private static func flatten(_ dict: PickleDict, prefix: String, depth: Int, budget: inout Int,
                                into tensors: inout [(String, TensorRef)], seen: inout Set<String>, skipMeta: Bool) throws {
        guard depth < 32 else { throw FormatError("state dict nested deeper than 32 levels") }
        for (keyNode, value) in zip(dict.keys, dict.values) {
            budget -= 1
            guard budget >= 0 else { throw FormatError("state dict too large") }
            guard case .string(let key) = keyNode else { continue }
            if skipMeta && depth == 0 && key == "meta" { continue }
            switch value {
            case .tensor(let ref):
                var name = prefix + key
                if name.hasPrefix("module.") { name.removeFirst(7) }
                guard seen.insert(name).inserted else { throw FormatError("tensor name \(name) appears twice") }
                tensors.append((name, ref))
            case .dict(let inner):
                try flatten(inner, prefix: prefix + key + ".", depth: depth + 1, budget: &budget,
                            into: &tensors, seen: &seen, skipMeta: false)
            default:
                continue  // optimizer state, epoch counters and the like are not weights
            }
        }
    }
}
