// A restricted pickle decoder (protocols 2–5): rebuilds plain data and torch tensors, executes nothing.
//
// Why restricted: a .pth file is a pickle, and a normal unpickler runs any callable the file names.
// Here GLOBAL/STACK_GLOBAL only resolve an allowlist of data constructors (below); anything else is
// refused by name the moment it is referenced. The decoder is a flat loop (no recursion), every
// length is checked against the remaining bytes, and conversion to `PickleValue` is depth- and
// size-bounded, so corrupt or hostile input ends in an error, never a hang or a crash.

/// One storage a tensor points into: `key` names its record (zip) or its slot (legacy).
struct StorageRef: Equatable {
    let key: String
    let dtype: DType
    let elementCount: Int
    /// Elements skipped inside the root storage (legacy storage views; 0 otherwise).
    let rootElementOffset: Int
}

/// A tensor as pickled: a strided view into a storage.
struct TensorRef: Equatable {
    let storage: StorageRef
    let storageOffset: Int
    let shape: [Int]
    let stride: [Int]
}

/// The callables the decoder knows how to apply (as data transformations, never executed).
enum KnownGlobal: Equatable {
    case orderedDict
    case rebuildTensorV2, rebuildTensor, rebuildParameter
    case storageType(DType)
    case codecsEncode
    case numpyDType, numpyScalar
}

/// A numpy dtype being rebuilt (`numpy.dtype(code, False, True)` then BUILD sets the byte order).
final class NumpyDType {
    let code: String
    var byteOrder = "<"
    init(code: String) { self.code = code }
}

final class PickleList { var items: [PickleNode] = [] }

/// Every list and dict one checkpoint's pickles created. A hostile pickle can make a container
/// hold itself (memo GET + APPEND), an ARC cycle; emptying them all after loading frees it.
final class PickleArena {
    private var lists: [PickleList] = []
    private var dicts: [PickleDict] = []

    func list() -> PickleList { let l = PickleList(); lists.append(l); return l }
    func dict() -> PickleDict { let d = PickleDict(); dicts.append(d); return d }

    func clear() {
        for l in lists { l.items.removeAll() }
        for d in dicts { d.removeAll() }
        lists.removeAll()
        dicts.removeAll()
    }
}

final class PickleDict {
    var keys: [PickleNode] = []
    var values: [PickleNode] = []
    private var stringIndex: [String: Int] = [:]

    func set(_ key: PickleNode, _ value: PickleNode) {
        if case .string(let s) = key {
            if let i = stringIndex[s] { values[i] = value; return }
            stringIndex[s] = keys.count
        }
        keys.append(key)
        values.append(value)
    }

    func removeAll() {
        keys.removeAll(); values.removeAll(); stringIndex.removeAll()
    }

    func value(forString key: String) -> PickleNode? {
        stringIndex[key].map { values[$0] }
    }
}

/// A value during decoding; lists and dicts are shared references, as in Python.
enum PickleNode {
    case none, bool(Bool), int(Int64), bigInt([UInt8]), float(Double), string(String), bytes([UInt8])
    case list(PickleList), tuple([PickleNode]), dict(PickleDict)
    case global(KnownGlobal, name: String)
    case numpyDType(NumpyDType)
    case storage(StorageRef)
    case tensor(TensorRef)
}

/// Decodes one pickle from `bytes` starting at `position`; `position` ends after its STOP opcode.
struct Unpickler {
    private let bytes: [UInt8]
    private(set) var position: Int
    /// Converts a persistent id (BINPERSID) into a node; nil means persistent ids are not allowed here.
    var persistentLoad: ((PickleNode) throws -> PickleNode)?

    /// Owns the containers this decoder creates (see `PickleArena`).
    let arena: PickleArena

    init(bytes: [UInt8], position: Int = 0, arena: PickleArena) {
        self.bytes = bytes
        self.position = position
        self.arena = arena
    }

    /// Thrown when the bytes end before STOP (so a caller reading a prefix of a file can read more).
    struct Truncated: Error {}

    mutating func load() throws -> PickleNode {
        var stack: [PickleNode] = []
        var marks: [Int] = []
        var memo: [Int: PickleNode] = [:]

        func pop() throws -> PickleNode {
            guard let v = stack.popLast() else { throw FormatError("pickle stack underflow") }
            return v
        }
        func popMark() throws -> [PickleNode] {
            guard let m = marks.popLast(), m <= stack.count else { throw FormatError("pickle MARK missing") }
            let items = Array(stack[m...])
            stack.removeSubrange(m...)
            return items
        }
        func top() throws -> PickleNode {
            guard let v = stack.last else { throw FormatError("pickle stack underflow") }
            return v
        }

        while true {
            let op = try readByte()
            switch op {
            case 0x80: // PROTO
                let version = try readByte()
                guard version <= 5 else { throw FormatError("unsupported pickle protocol \(version)") }
            case 0x95: // FRAME (length only; frames are advisory)
                _ = try readBytes(8)
            case 0x2E: // STOP
                return try pop()
            case 0x28: marks.append(stack.count)            // MARK
            case 0x30: _ = try pop()                         // POP
            case 0x31: _ = try popMark()                     // POP_MARK
            case 0x32: stack.append(try top())               // DUP
            case 0x4E: stack.append(.none)                   // NONE
            case 0x88: stack.append(.bool(true))             // NEWTRUE
            case 0x89: stack.append(.bool(false))            // NEWFALSE
            case 0x4A: stack.append(.int(Int64(Int32(bitPattern: try readUInt(4).truncatingUInt32)))) // BININT
            case 0x4B: stack.append(.int(Int64(try readByte())))          // BININT1
            case 0x4D: stack.append(.int(Int64(try readUInt(2))))         // BININT2
            case 0x8A: stack.append(try readLong(Int(try readByte())))    // LONG1
            case 0x8B: // LONG4
                let n = Int32(bitPattern: try readUInt(4).truncatingUInt32)
                guard n >= 0 else { throw FormatError("negative LONG4 length") }
                stack.append(try readLong(Int(n)))
            case 0x49: // INT (text; "I01"/"I00" are bools)
                let line = try readLine()
                if line == "01" { stack.append(.bool(true)) } else if line == "00" { stack.append(.bool(false)) }
                else if let v = Int64(line) { stack.append(.int(v)) } else { throw FormatError("bad INT \(line.prefix(40))") }
            case 0x4C: // LONG (text)
                var line = try readLine()
                if line.hasSuffix("L") { line.removeLast() }
                guard let v = Int64(line) else { throw FormatError("LONG out of range") }
                stack.append(.int(v))
            case 0x46: // FLOAT (text)
                let line = try readLine()
                guard let v = Double(line) else { throw FormatError("bad FLOAT") }
                stack.append(.float(v))
            case 0x47: // BINFLOAT (big-endian double)
                stack.append(.float(Double(bitPattern: try readBigEndianUInt64())))
            case 0x58: stack.append(.string(try readString(Int(try readUInt(4)))))   // BINUNICODE
            case 0x8C: stack.append(.string(try readString(Int(try readByte()))))    // SHORT_BINUNICODE
            case 0x8D: stack.append(.string(try readString(try readLength8())))      // BINUNICODE8
            case 0x54: // BINSTRING (py2 str): decode as latin-1 text
                let n = Int32(bitPattern: try readUInt(4).truncatingUInt32)
                guard n >= 0 else { throw FormatError("negative BINSTRING length") }
                stack.append(.string(String(decoding: try readBytes(Int(n)).map { UInt16($0) }, as: UTF16.self)))
            case 0x55: // SHORT_BINSTRING
                stack.append(.string(String(decoding: try readBytes(Int(try readByte())).map { UInt16($0) }, as: UTF16.self)))
            case 0x42: stack.append(.bytes(try readBytes(Int(try readUInt(4)))))  // BINBYTES
            case 0x43: stack.append(.bytes(try readBytes(Int(try readByte()))))   // SHORT_BINBYTES
            case 0x8E, 0x96: stack.append(.bytes(try readBytes(try readLength8()))) // BINBYTES8, BYTEARRAY8
            case 0x7D: stack.append(.dict(arena.dict()))     // EMPTY_DICT
            case 0x5D: stack.append(.list(arena.list()))     // EMPTY_LIST
            case 0x29: stack.append(.tuple([]))              // EMPTY_TUPLE
            case 0x8F: stack.append(.list(arena.list()))     // EMPTY_SET (kept as a list)
            case 0x74: stack.append(.tuple(try popMark()))   // TUPLE
            case 0x85: stack.append(.tuple([try pop()]))     // TUPLE1
            case 0x86: let b = try pop(); let a = try pop(); stack.append(.tuple([a, b]))           // TUPLE2
            case 0x87: let c = try pop(); let b = try pop(); let a = try pop(); stack.append(.tuple([a, b, c])) // TUPLE3
            case 0x6C: // LIST
                let list = arena.list(); list.items = try popMark(); stack.append(.list(list))
            case 0x91: // FROZENSET (kept as a list)
                let list = arena.list(); list.items = try popMark(); stack.append(.list(list))
            case 0x64: // DICT
                let items = try popMark()
                guard items.count % 2 == 0 else { throw FormatError("odd DICT item count") }
                let dict = arena.dict()
                for i in stride(from: 0, to: items.count, by: 2) { dict.set(items[i], items[i + 1]) }
                stack.append(.dict(dict))
            case 0x61: // APPEND
                let item = try pop()
                guard case .list(let list) = try top() else { throw FormatError("APPEND to a non-list") }
                list.items.append(item)
            case 0x65, 0x90: // APPENDS, ADDITEMS
                let items = try popMark()
                guard case .list(let list) = try top() else { throw FormatError("APPENDS to a non-list") }
                list.items.append(contentsOf: items)
            case 0x73: // SETITEM
                let value = try pop(); let key = try pop()
                guard case .dict(let dict) = try top() else { throw FormatError("SETITEM on a non-dict") }
                dict.set(key, value)
            case 0x75: // SETITEMS
                let items = try popMark()
                guard items.count % 2 == 0 else { throw FormatError("odd SETITEMS item count") }
                guard case .dict(let dict) = try top() else { throw FormatError("SETITEMS on a non-dict") }
                for i in stride(from: 0, to: items.count, by: 2) { dict.set(items[i], items[i + 1]) }
            case 0x63: // GLOBAL "module\nname\n"
                let module = try readLine(), name = try readLine()
                stack.append(try Unpickler.resolveGlobal(module: module, name: name))
            case 0x93: // STACK_GLOBAL
                let nameNode = try pop(), moduleNode = try pop()
                guard case .string(let name) = nameNode, case .string(let module) = moduleNode else {
                    throw FormatError("STACK_GLOBAL needs two strings")
                }
                stack.append(try Unpickler.resolveGlobal(module: module, name: name))
            case 0x52: // REDUCE
                let args = try pop(), callable = try pop()
                stack.append(try Unpickler.apply(callable, args, arena: arena))
            case 0x81: // NEWOBJ cls.__new__(cls, *args): only OrderedDict is constructible
                let args = try pop(), cls = try pop()
                guard case .global(.orderedDict, _) = cls, case .tuple(let a) = args, a.isEmpty else {
                    throw FormatError("NEWOBJ of an unsupported class")
                }
                stack.append(.dict(arena.dict()))
            case 0x62: // BUILD: state on an OrderedDict (state_dict `_metadata`) or tensor is dropped
                let state = try pop()
                switch try top() {
                case .dict, .tensor: break
                case .numpyDType(let dtype):  // state (version, byteorder, ...)
                    if case .tuple(let t) = state, t.count >= 2, case .string(let order) = t[1] { dtype.byteOrder = order }
                default: throw FormatError("BUILD on an unsupported object")
                }
            case 0x51: // BINPERSID
                let pid = try pop()
                guard let persistentLoad else { throw FormatError("unexpected persistent id") }
                stack.append(try persistentLoad(pid))
            case 0x71: memo[Int(try readByte())] = try top()                      // BINPUT
            case 0x72: memo[Int(try readUInt(4))] = try top()                     // LONG_BINPUT
            case 0x94: memo[memo.count] = try top()                               // MEMOIZE
            case 0x70: // PUT (text)
                guard let i = Int(try readLine()) else { throw FormatError("bad PUT") }
                memo[i] = try top()
            case 0x68, 0x6A, 0x67: // BINGET, LONG_BINGET, GET
                let index: Int
                if op == 0x68 { index = Int(try readByte()) }
                else if op == 0x6A { index = Int(try readUInt(4)) }
                else { guard let i = Int(try readLine()) else { throw FormatError("bad GET") }; index = i }
                guard let v = memo[index] else { throw FormatError("memo key \(index) missing") }
                stack.append(v)
            default:
                throw FormatError("unsupported pickle opcode 0x\(String(op, radix: 16)) at byte \(position - 1)")
            }
        }
    }

    // MARK: globals and REDUCE

    static let storageTypes: [String: DType] = [
        "FloatStorage": .float32, "HalfStorage": .float16, "BFloat16Storage": .bfloat16,
        "DoubleStorage": .float64, "LongStorage": .int64, "IntStorage": .int32, "ShortStorage": .int16,
        "CharStorage": .int8, "ByteStorage": .uint8, "BoolStorage": .bool,
    ]

    static func resolveGlobal(module: String, name: String) throws -> PickleNode {
        let known: KnownGlobal?
        switch (module, name) {
        case ("collections", "OrderedDict"): known = .orderedDict
        case ("torch._utils", "_rebuild_tensor_v2"): known = .rebuildTensorV2
        case ("torch._utils", "_rebuild_tensor"): known = .rebuildTensor
        case ("torch._utils", "_rebuild_parameter"): known = .rebuildParameter
        case ("_codecs", "encode"): known = .codecsEncode  // protocol-2 spelling of a bytes object
        // numpy scalars (e.g. a best_score in mmcv's hook_msgs meta) are decoded as plain numbers.
        case ("numpy", "dtype"): known = .numpyDType
        case ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"): known = .numpyScalar
        // GPU-trained legacy checkpoints name torch.cuda.*Storage; the bytes are the same.
        case ("torch", _), ("torch.cuda", _): known = storageTypes[name].map { .storageType($0) }
        default: known = nil
        }
        let qualified = "\(module.prefix(100)).\(name.prefix(100))"
        guard let known else { throw FormatError("refuses to load global \(qualified) (not a tensor or plain-data type)") }
        return .global(known, name: qualified)
    }

    static func apply(_ callable: PickleNode, _ argsNode: PickleNode, arena: PickleArena) throws -> PickleNode {
        guard case .global(let fn, let name) = callable else { throw FormatError("REDUCE on a non-callable") }
        guard case .tuple(let args) = argsNode else { throw FormatError("REDUCE arguments of \(name) are not a tuple") }
        switch fn {
        case .orderedDict:
            let dict = arena.dict()
            if let first = args.first {  // OrderedDict([(k, v), ...])
                guard case .list(let pairs) = first else { throw FormatError("OrderedDict argument is not a list") }
                for pair in pairs.items {
                    guard case .tuple(let kv) = pair, kv.count == 2 else { throw FormatError("OrderedDict item is not a pair") }
                    dict.set(kv[0], kv[1])
                }
            }
            return .dict(dict)
        case .rebuildTensorV2, .rebuildTensor:
            // (storage, storage_offset, size, stride, [requires_grad, backward_hooks, metadata])
            guard args.count >= 4, case .storage(let storage) = args[0], case .int(let offset) = args[1] else {
                throw FormatError("\(name) arguments are not (storage, offset, size, stride, ...)")
            }
            let shape = try intTuple(args[2], what: "size"), stride = try intTuple(args[3], what: "stride")
            guard shape.count == stride.count, shape.count <= 32 else { throw FormatError("tensor size/stride ranks differ or exceed 32") }
            guard offset >= 0, offset <= Int64(Int32.max) * 64 else { throw FormatError("bad storage offset \(offset)") }
            return .tensor(TensorRef(storage: storage, storageOffset: Int(offset), shape: shape, stride: stride))
        case .rebuildParameter:
            guard let data = args.first, case .tensor = data else { throw FormatError("_rebuild_parameter without a tensor") }
            return data
        case .codecsEncode:
            guard args.count == 2, case .string(let text) = args[0], case .string(let encoding) = args[1],
                  encoding == "latin1" || encoding == "latin-1" else {
                throw FormatError("_codecs.encode only decodes (str, 'latin1')")
            }
            var out: [UInt8] = []
            for scalar in text.unicodeScalars {
                guard scalar.value < 256 else { throw FormatError("_codecs.encode text is not latin-1") }
                out.append(UInt8(scalar.value))
            }
            return .bytes(out)
        case .numpyDType:
            guard let first = args.first, case .string(let code) = first, code.count <= 8 else {
                throw FormatError("numpy.dtype needs a type code")
            }
            return .numpyDType(NumpyDType(code: code))
        case .numpyScalar:
            guard args.count == 2, case .numpyDType(let dtype) = args[0], case .bytes(let raw) = args[1] else {
                throw FormatError("numpy scalar arguments are not (dtype, bytes)")
            }
            return try numpyScalar(dtype, raw)
        case .storageType:
            throw FormatError("refuses to call \(name)")
        }
    }

    /// Reads a torch persistent id: ('storage', StorageType, key, location, numel[, view_metadata]).
    static func storageReference(_ pid: PickleNode) throws -> StorageRef {
        guard case .tuple(let t) = pid, t.count >= 5, case .string("storage") = t[0] else {
            throw FormatError("persistent id is not a ('storage', ...) tuple")
        }
        guard case .global(.storageType(let dtype), _) = t[1] else { throw FormatError("persistent id names no known storage type") }
        let key: String
        switch t[2] {
        case .string(let s): key = s
        case .int(let i): key = String(i)
        default: throw FormatError("storage key is not a string")
        }
        guard case .int(let numel) = t[4], numel >= 0, numel <= Int64(Int32.max) * 64 else { throw FormatError("storage \(key.prefix(40)) has a bad element count") }
        if t.count >= 6, case .tuple(let view) = t[5] {
            // Pre-0.4 storage views: (view_key, element offset, view size) inside the root storage.
            guard view.count == 3, case .int(let offset) = view[1], case .int(let size) = view[2],
                  offset >= 0, size >= 0, offset <= numel, size <= numel - offset else { throw FormatError("bad storage view of \(key.prefix(40))") }
            return StorageRef(key: key, dtype: dtype, elementCount: Int(size), rootElementOffset: Int(offset))
        }
        return StorageRef(key: key, dtype: dtype, elementCount: Int(numel), rootElementOffset: 0)
    }

    /// The value of a numpy scalar from its dtype code ("f8", "i4", "b1", ...) and raw bytes.
    static func numpyScalar(_ dtype: NumpyDType, _ raw: [UInt8]) throws -> PickleNode {
        guard let kind = dtype.code.first, let width = Int(dtype.code.dropFirst()), [1, 2, 4, 8].contains(width),
              raw.count == width else { throw FormatError("numpy scalar of dtype \(dtype.code) is not supported") }
        let ordered = dtype.byteOrder == ">" ? Array(raw.reversed()) : raw
        let bits = le(ordered, 0, width)
        switch (kind, width) {
        case ("f", 8): return .float(Double(bitPattern: bits))
        case ("f", 4): return .float(Double(Float(bitPattern: UInt32(bits))))
        case ("f", 2): return .float(Double(ElementConversion.halfToFloat(UInt16(bits))))
        case ("i", _):
            let shift = UInt64(64 - 8 * width)
            return .int(Int64(bitPattern: bits << shift) >> Int64(shift))
        case ("u", _):
            guard bits <= UInt64(Int64.max) else { throw FormatError("numpy uint64 scalar out of range") }
            return .int(Int64(bits))
        case ("b", 1): return .bool(bits != 0)
        default: throw FormatError("numpy scalar of dtype \(dtype.code) is not supported")
        }
    }

    static func intTuple(_ node: PickleNode, what: String) throws -> [Int] {
        guard case .tuple(let items) = node else { throw FormatError("tensor \(what) is not a tuple") }
        return try items.map {
            guard case .int(let v) = $0, v >= 0, v <= Int64(Int32.max) * 64 else { throw FormatError("tensor \(what) has a bad entry") }
            return Int(v)
        }
    }

    // MARK: byte reading

    private mutating func readByte() throws -> UInt8 {
        guard position < bytes.count else { throw Truncated() }
        defer { position += 1 }
        return bytes[position]
    }

    private mutating func readBytes(_ n: Int) throws -> [UInt8] {
        guard n >= 0, n <= bytes.count - position else { throw Truncated() }
        defer { position += n }
        return Array(bytes[position..<position + n])
    }

    private mutating func readUInt(_ n: Int) throws -> UInt64 {
        guard n <= bytes.count - position else { throw Truncated() }
        var v: UInt64 = 0
        for i in 0..<n { v |= UInt64(bytes[position + i]) << (8 * UInt64(i)) }
        position += n
        return v
    }

    private mutating func readBigEndianUInt64() throws -> UInt64 {
        guard 8 <= bytes.count - position else { throw Truncated() }
        var v: UInt64 = 0
        for i in 0..<8 { v = v << 8 | UInt64(bytes[position + i]) }
        position += 8
        return v
    }

    private mutating func readLength8() throws -> Int {
        let n = try readUInt(8)
        guard n <= UInt64(bytes.count - position) else { throw Truncated() }
        return Int(n)
    }

    private mutating func readString(_ n: Int) throws -> String {
        String(decoding: try readBytes(n), as: UTF8.self)
    }

    private mutating func readLine() throws -> String {
        let limit = min(bytes.count, position + 4096)
        var end = position
        while end < limit, bytes[end] != 0x0A { end += 1 }
        guard end < bytes.count else { throw Truncated() }
        guard end < limit else { throw FormatError("pickle text line longer than 4096 bytes") }
        defer { position = end + 1 }
        return String(decoding: bytes[position..<end], as: UTF8.self)
    }

    private mutating func readLong(_ n: Int) throws -> PickleNode {
        guard n <= 4096 else { throw FormatError("integer of \(n) bytes is too large") }
        let raw = try readBytes(n)
        if n == 0 { return .int(0) }
        if n <= 8 {
            var v: UInt64 = 0
            for (i, b) in raw.enumerated() { v |= UInt64(b) << (8 * UInt64(i)) }
            if raw[n - 1] & 0x80 != 0, n < 8 { v |= ~0 << (8 * UInt64(n)) }  // sign-extend
            return .int(Int64(bitPattern: v))
        }
        return .bigInt(raw)
    }
}

extension UInt64 {
    var truncatingUInt32: UInt32 { UInt32(truncatingIfNeeded: self) }
}

extension PickleNode {
    /// Converts to the public plain-data tree; bounded so shared or cyclic references cannot blow up.
    func plainValue(depth: Int = 0, budget: inout Int) throws -> PickleValue {
        budget -= 1
        guard budget >= 0 else { throw FormatError("pickle value too large") }
        guard depth < 200 else { throw FormatError("pickle nesting deeper than 200 levels") }
        switch self {
        case .none: return .none
        case .bool(let b): return .bool(b)
        case .int(let i): return .int(i)
        case .bigInt(let b): return .bigInt(b)
        case .float(let d): return .float(d)
        case .string(let s): return .string(s)
        case .bytes(let b): return .bytes(b)
        case .list(let l): return .list(try l.items.map { try $0.plainValue(depth: depth + 1, budget: &budget) })
        case .tuple(let t): return .tuple(try t.map { try $0.plainValue(depth: depth + 1, budget: &budget) })
        case .dict(let d):
            var items: [PickleValue.DictItem] = []
            for (k, v) in zip(d.keys, d.values) {
                items.append(.init(key: try k.plainValue(depth: depth + 1, budget: &budget),
                                   value: try v.plainValue(depth: depth + 1, budget: &budget)))
            }
            return .dict(items)
        case .global(_, let name): return .string(name)
        case .numpyDType(let d): return .string(d.code)
        case .storage(let s): return .string("<storage \(s.dtype.rawValue)[\(s.elementCount)]>")
        case .tensor(let t): return .tensor(dtype: t.storage.dtype, shape: t.shape)
        }
    }
}
