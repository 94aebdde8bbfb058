// A checkpoint file opened for reading: names, dtypes and shapes up front, tensors read on request.
import Tensors

/// A PyTorch (zip or legacy) or safetensors checkpoint; tensors are read from the file on request,
/// so the weights are never held twice (no whole-file buffer, no cached copies).
public final class Checkpoint {
    public let path: String
    public let format: CheckpointFormat
    /// Tensors in state-dict order, names after layout resolution ('state_dict'/'model'/bare, 'module.' removed).
    public let entries: [CheckpointEntry]
    /// The mmpose/mmcv `meta` dict (or safetensors `__metadata__`) when present.
    public let meta: PickleValue?

    private let file: FileReader
    private let stored: [String: StoredTensor]

    private init(path: String, format: CheckpointFormat, tensors: [(String, StoredTensor)], meta: PickleValue?, file: FileReader) {
        self.path = path
        self.format = format
        self.entries = tensors.map { CheckpointEntry(name: $0.0, dtype: $0.1.dtype, shape: $0.1.shape) }
        self.stored = Dictionary(tensors, uniquingKeysWith: { first, _ in first })
        self.meta = meta
        self.file = file
    }

    /// Opens and validates `path` (format detected from content); throws `CheckpointError` on any problem.
    public static func load(_ path: String) throws -> Checkpoint {
        let arena = PickleArena()
        defer { arena.clear() }  // the decoded pickle tree is not kept; break any cycles it has
        do {
            let file = try FileReader(path: path)
            let head = try file.bytes(at: 0, count: min(file.size, 16))
            guard !head.isEmpty else { throw FormatError("empty file: not a checkpoint") }
            if head.starts(with: [0x50, 0x4B, 0x03, 0x04]) || head.starts(with: [0x50, 0x4B, 0x05, 0x06]) {
                return try fromTorch(TorchZipFormat.read(file, arena: arena), path: path, file: file)
            }
            if head[0] == 0x80 {  // pickle PROTO opcode: torch's legacy stream
                return try fromTorch(TorchLegacyFormat.read(file, arena: arena), path: path, file: file)
            }
            if SafetensorsFormat.looksLike(head, fileSize: file.size) {
                let (tensors, meta) = try SafetensorsFormat.read(file)
                return Checkpoint(path: path, format: .safetensors, tensors: tensors, meta: meta, file: file)
            }
            throw FormatError("not a checkpoint (neither a torch zip, a torch legacy pickle nor safetensors)")
        } catch let error as FormatError {
            throw CheckpointError(path: path, problem: error.problem)
        } catch is Unpickler.Truncated {
            throw CheckpointError(path: path, problem: "pickle data ends early (truncated file)")
        }
    }

    private static func fromTorch(_ torch: TorchFile, path: String, file: FileReader) throws -> Checkpoint {
        let (refs, metaNode) = try StateDictLayout.resolve(torch.root)
        let tensors = try refs.map { ($0.0, try torch.locate($0.1, $0.0)) }
        var budget = 1_000_000
        let meta = try metaNode.map { try $0.plainValue(budget: &budget) }
        return Checkpoint(path: path, format: torch.format, tensors: tensors, meta: meta, file: file)
    }

    /// The shape of tensor `name`, or nil when there is none.
    public func shape(_ name: String) -> [Int]? { stored[name]?.shape }

    /// The dtype of tensor `name` as stored, or nil when there is none.
    public func dtype(_ name: String) -> DType? { stored[name]?.dtype }

    /// Reads tensor `name` from the file, converted to Float32 (thread-safe).
    public func tensor(_ name: String) throws -> Tensor {
        guard let t = stored[name] else { throw CheckpointError(path: path, problem: "no tensor named \(name)") }
        do {
            let littleEndianHost = UInt16(1).littleEndian == 1
            if t.dtype == .float32, t.isContiguous, !t.bigEndian, littleEndianHost {
                // Straight from the file into the tensor's own buffer: one copy, no staging.
                return try Tensor(shape: t.shape) { out in
                    try file.read(into: UnsafeMutableRawBufferPointer(out), at: t.byteOffset)
                }
            }
            let raw = try file.bytes(at: t.byteOffset, count: t.spanBytes)
            return raw.withUnsafeBytes { bytes in
                Tensor(shape: t.shape) { out in
                    if out.count > 0 { ElementConversion.gather(bytes.baseAddress!, t, into: out) }
                }
            }
        } catch let error as FormatError {
            throw CheckpointError(path: path, problem: "tensor \(name): \(error.problem)")
        }
    }
}
