// torch.save files: the zip format (torch >= 1.6) and the legacy pickle-stream format (before 1.6).

/// What a torch file decodes to: the object tree plus every tensor's validated location.
struct TorchFile {
    let root: PickleNode
    let format: CheckpointFormat
    /// Resolves a pickled tensor reference to a validated location in the file.
    let locate: (TensorRef, String) throws -> StoredTensor
}

enum TorchZipFormat {
    /// Reads `<folder>/data.pkl`; storages are the stored records `<folder>/data/<key>`.
    static func read(_ file: FileReader, arena: PickleArena) throws -> TorchFile {
        let zip = try ZipDirectory(file: file)
        let pickles = zip.names.filter { name in
            name.hasSuffix("data.pkl") && (name == "data.pkl" || name.dropLast(8).hasSuffix("/"))
                && name.dropLast(9).firstIndex(of: "/") == nil
        }
        guard pickles.count == 1, let pickleName = pickles.first, let pickleRecord = zip.records[pickleName] else {
            throw FormatError(pickles.isEmpty ? "zip archive has no <folder>/data.pkl: not a torch checkpoint"
                                              : "zip archive has several data.pkl records")
        }
        let folder = String(pickleName.dropLast(8))  // "archive/"
        var bigEndian = false
        if let order = zip.records[folder + "byteorder"] {
            let range = try zip.dataRange(of: order, in: file)
            guard range.count <= 16 else { throw FormatError("byteorder record too long") }
            switch String(decoding: try file.bytes(at: range.offset, count: range.count), as: UTF8.self) {
            case "little": bigEndian = false
            case "big": bigEndian = true
            case let other: throw FormatError("unknown byteorder \"\(other.prefix(16))\"")
            }
        }
        let pickleRange = try zip.dataRange(of: pickleRecord, in: file)
        let pickleBytes = try file.bytes(at: pickleRange.offset, count: pickleRange.count)
        var unpickler = Unpickler(bytes: pickleBytes, arena: arena)
        unpickler.persistentLoad = { .storage(try Unpickler.storageReference($0)) }
        let root: PickleNode
        do { root = try unpickler.load() } catch is Unpickler.Truncated {
            throw FormatError("\(pickleName) ends before its pickle STOP opcode")
        }
        return TorchFile(root: root, format: .zip) { ref, name in
            guard let record = zip.records[folder + "data/" + ref.storage.key] else {
                throw FormatError("tensor \(name): storage record \(folder)data/\(ref.storage.key.prefix(40)) is missing")
            }
            let range = try zip.dataRange(of: record, in: file)
            let declared = ref.storage.elementCount * ref.storage.dtype.byteCount
            guard range.count >= declared else {
                throw FormatError("tensor \(name): storage \(ref.storage.key.prefix(40)) has \(range.count) bytes, \(declared) declared")
            }
            return try StoredTensor(name: name, dtype: ref.storage.dtype, shape: ref.shape, stride: ref.stride,
                                    storageOffset: ref.storageOffset, storageByteOffset: range.offset,
                                    storageBytes: declared, bigEndian: bigEndian, fileSize: file.size)
        }
    }
}

enum TorchLegacyFormat {
    /// torch.serialization MAGIC_NUMBER 0x1950a86a20f9469cfc6c as pickled (LONG1, little-endian).
    static let magic: [UInt8] = [0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19]

    /// Magic, protocol 1001, sys_info, the object (storages as persistent ids), the storage key list,
    /// then per key: an int64 little-endian element count and the raw little-endian elements.
    static func read(_ file: FileReader, arena: PickleArena) throws -> TorchFile {
        // The pickles sit at the front; read a prefix and grow it only if a pickle runs past its end.
        var prefixLength = min(file.size, 1 << 20)
        while true {
            let prefix = try file.bytes(at: 0, count: prefixLength)
            do {
                return try parse(prefix, file: file, arena: arena)
            } catch is Unpickler.Truncated {
                guard prefixLength < file.size else { throw FormatError("legacy checkpoint ends inside its pickles (truncated)") }
                prefixLength = min(file.size, prefixLength * 4)
            }
        }
    }

    private static func parse(_ bytes: [UInt8], file: FileReader, arena: PickleArena) throws -> TorchFile {
        var unpickler = Unpickler(bytes: bytes, arena: arena)
        let magicNode: PickleNode
        do { magicNode = try unpickler.load() } catch let e as FormatError {
            throw FormatError("not a torch legacy checkpoint (no magic number pickle: \(e.problem))")
        }
        guard case .bigInt(let m) = magicNode, m == magic else {
            throw FormatError("wrong magic number: not a torch legacy checkpoint")
        }
        guard case .int(1001) = try unpickler.load() else { throw FormatError("unsupported legacy protocol version (expected 1001)") }
        _ = try unpickler.load()  // sys_info: little_endian, type sizes (data is little-endian as written by torch)
        var storages: [String: StorageRef] = [:]
        var objectUnpickler = Unpickler(bytes: bytes, position: unpickler.position, arena: arena)
        objectUnpickler.persistentLoad = { pid in
            let ref = try Unpickler.storageReference(pid)
            if let known = storages[ref.key] {
                guard known.dtype == ref.dtype else { throw FormatError("storage \(ref.key.prefix(40)) has two dtypes") }
            }
            if ref.rootElementOffset == 0 || storages[ref.key] == nil {
                let rootCount = ref.rootElementOffset == 0 ? ref.elementCount : ref.rootElementOffset + ref.elementCount
                storages[ref.key] = StorageRef(key: ref.key, dtype: ref.dtype, elementCount: max(rootCount, storages[ref.key]?.elementCount ?? 0), rootElementOffset: 0)
            }
            return .storage(ref)
        }
        let root = try objectUnpickler.load()
        var keysUnpickler = Unpickler(bytes: bytes, position: objectUnpickler.position, arena: arena)
        guard case .list(let keyList) = try keysUnpickler.load() else { throw FormatError("legacy storage key list is not a list") }
        // Walk the storage section: each key's record is an 8-byte count then its elements.
        var dataOffsets: [String: (offset: Int, bytes: Int)] = [:]
        var offset = keysUnpickler.position
        for keyNode in keyList.items {
            guard case .string(let key) = keyNode, let storage = storages[key] else {
                throw FormatError("legacy storage key list names a storage no tensor uses")
            }
            let header = try readCount(file, at: offset, key: key)
            guard header >= storage.elementCount else {
                throw FormatError("storage \(key.prefix(40)) holds \(header) elements but \(storage.elementCount) are declared")
            }
            let (bytes, overflow) = header.multipliedReportingOverflow(by: storage.dtype.byteCount)
            guard !overflow, offset + 8 <= file.size, bytes <= file.size - offset - 8 else {
                throw FormatError("storage \(key.prefix(40)) (\(header) elements) runs past the end of the file (truncated)")
            }
            dataOffsets[key] = (offset + 8, bytes)
            offset += 8 + bytes
        }
        return TorchFile(root: root, format: .legacy) { ref, name in
            guard let data = dataOffsets[ref.storage.key] else {
                throw FormatError("tensor \(name): storage \(ref.storage.key.prefix(40)) is not in the file")
            }
            let start = ref.storage.rootElementOffset * ref.storage.dtype.byteCount
            return try StoredTensor(name: name, dtype: ref.storage.dtype, shape: ref.shape, stride: ref.stride,
                                    storageOffset: ref.storageOffset, storageByteOffset: data.offset + start,
                                    storageBytes: min(data.bytes - start, ref.storage.elementCount * ref.storage.dtype.byteCount),
                                    bigEndian: false, fileSize: file.size)
        }
    }

    private static func readCount(_ file: FileReader, at offset: Int, key: String) throws -> Int {
        guard offset <= file.size - 8 else { throw FormatError("storage \(key.prefix(40)) is missing: file truncated") }
        let raw = try file.bytes(at: offset, count: 8)
        let count = le(raw, 0, 8)
        guard count <= UInt64(file.size) else { throw FormatError("storage \(key.prefix(40)) claims \(count) elements, more than the file holds") }
        return Int(count)
    }
}
