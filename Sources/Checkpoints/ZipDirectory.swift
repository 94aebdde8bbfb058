// The central directory of a zip archive, read directly so each record's data offset is known.
//
// Why not ZIPFoundation here: its `Entry` does not expose where an entry's data starts, and torch's
// stored (uncompressed, 64-byte aligned) records are read in place with pread, never extracted.

/// One record of a zip archive.
struct ZipRecord {
    let name: String
    let method: UInt16
    let compressedSize: Int
    let uncompressedSize: Int
    let localHeaderOffset: Int
}

/// The records of a zip file, keyed by name.
struct ZipDirectory {
    let records: [String: ZipRecord]
    let names: [String]

    init(file: FileReader) throws {
        let tailLength = min(file.size, 22 + 65_535)
        guard tailLength >= 22 else { throw FormatError("truncated zip: no end-of-central-directory record") }
        let tailStart = file.size - tailLength
        let tail = try file.bytes(at: tailStart, count: tailLength)
        var eocd = -1
        var i = tailLength - 22
        while i >= 0 {
            if tail[i] == 0x50, tail[i + 1] == 0x4B, tail[i + 2] == 0x05, tail[i + 3] == 0x06 { eocd = i; break }
            i -= 1
        }
        guard eocd >= 0 else { throw FormatError("truncated or damaged zip: no end-of-central-directory record") }
        var entryCount = Int(le(tail, eocd + 10, 2)), directorySize = Int(le(tail, eocd + 12, 4))
        var directoryOffset = Int(le(tail, eocd + 16, 4))
        if entryCount == 0xFFFF || directorySize == 0xFFFF_FFFF || directoryOffset == 0xFFFF_FFFF {
            // Zip64: the locator sits just before the classic record and points at the zip64 record.
            let locator = tailStart + eocd - 20
            guard locator >= 0 else { throw FormatError("damaged zip64 directory locator") }
            let loc = try file.bytes(at: locator, count: 20)
            guard le(loc, 0, 4) == 0x0706_4B50 else { throw FormatError("damaged zip64 directory locator") }
            let recordOffset = le(loc, 8, 8)
            guard file.size >= 56, recordOffset <= UInt64(file.size - 56) else { throw FormatError("zip64 directory record out of range") }
            let rec = try file.bytes(at: Int(recordOffset), count: 56)
            guard le(rec, 0, 4) == 0x0606_4B50 else { throw FormatError("damaged zip64 directory record") }
            let count = le(rec, 32, 8), size = le(rec, 40, 8), offset = le(rec, 48, 8)
            guard count <= UInt64(file.size), size <= UInt64(file.size), offset <= UInt64(file.size) else {
                throw FormatError("zip64 directory fields out of range")
            }
            entryCount = Int(count); directorySize = Int(size); directoryOffset = Int(offset)
        }
        guard directoryOffset <= file.size, directorySize <= file.size - directoryOffset,
              entryCount <= directorySize / 46 + 1 else {
            throw FormatError("truncated zip: central directory (\(directorySize) bytes at \(directoryOffset)) lies outside the file")
        }
        let directory = try file.bytes(at: directoryOffset, count: directorySize)
        var records: [String: ZipRecord] = [:]
        var names: [String] = []
        var p = 0
        for _ in 0..<entryCount {
            guard p + 46 <= directory.count, le(directory, p, 4) == 0x0201_4B50 else {
                throw FormatError("damaged zip central directory entry at byte \(directoryOffset + p)")
            }
            let method = UInt16(le(directory, p + 10, 2))
            var compressed = le(directory, p + 20, 4), uncompressed = le(directory, p + 24, 4)
            let nameLength = Int(le(directory, p + 28, 2)), extraLength = Int(le(directory, p + 30, 2))
            let commentLength = Int(le(directory, p + 32, 2))
            var localOffset = le(directory, p + 42, 4)
            let nameStart = p + 46, extraStart = nameStart + nameLength, next = extraStart + extraLength + commentLength
            guard next <= directory.count else { throw FormatError("damaged zip central directory entry") }
            let name = String(decoding: directory[nameStart..<extraStart], as: UTF8.self)
            // Zip64 extended information (id 1) carries the fields that overflowed 32 bits, in order.
            var e = extraStart
            while e + 4 <= extraStart + extraLength {
                let id = le(directory, e, 2), length = Int(le(directory, e + 2, 2))
                var f = e + 4
                let end = f + length
                guard end <= extraStart + extraLength else { break }
                if id == 1 {
                    if uncompressed == 0xFFFF_FFFF, f + 8 <= end { uncompressed = le(directory, f, 8); f += 8 }
                    if compressed == 0xFFFF_FFFF, f + 8 <= end { compressed = le(directory, f, 8); f += 8 }
                    if localOffset == 0xFFFF_FFFF, f + 8 <= end { localOffset = le(directory, f, 8); f += 8 }
                }
                e = end
            }
            guard compressed <= UInt64(file.size), uncompressed <= UInt64(file.size) * 2 + 1_000_000,
                  localOffset <= UInt64(file.size) else {
                throw FormatError("zip entry \(name) has sizes or offsets outside the file")
            }
            let record = ZipRecord(name: name, method: method, compressedSize: Int(compressed),
                                   uncompressedSize: Int(uncompressed), localHeaderOffset: Int(localOffset))
            if records[name] == nil { names.append(name) }
            records[name] = record
            p = next
        }
        self.records = records
        self.names = names
    }

    /// Where a stored record's bytes begin, checked to lie inside the file.
    func dataRange(of record: ZipRecord, in file: FileReader) throws -> (offset: Int, count: Int) {
        guard record.method == 0, record.compressedSize == record.uncompressedSize else {
            throw FormatError("zip entry \(record.name) is compressed (method \(record.method)); torch stores records uncompressed")
        }
        let header = try file.bytes(at: record.localHeaderOffset, count: min(30, max(0, file.size - record.localHeaderOffset)))
        guard header.count == 30, le(header, 0, 4) == 0x0403_4B50 else {
            throw FormatError("damaged local header of zip entry \(record.name)")
        }
        let offset = record.localHeaderOffset + 30 + Int(le(header, 26, 2)) + Int(le(header, 28, 2))
        guard offset <= file.size, record.compressedSize <= file.size - offset else {
            throw FormatError("truncated zip: entry \(record.name) (\(record.compressedSize) bytes at \(offset)) runs past the end of the file")
        }
        return (offset, record.compressedSize)
    }
}

/// Little-endian unsigned integer of `width` bytes at `at` (callers bounds-check).
@inline(__always) func le(_ b: [UInt8], _ at: Int, _ width: Int) -> UInt64 {
    var v: UInt64 = 0
    for i in 0..<width { v |= UInt64(b[at + i]) << (8 * UInt64(i)) }
    return v
}
