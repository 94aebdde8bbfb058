import Foundation

/// Typed access to the fields of a parsed JSON object, with errors that say where the problem is.
struct JSONFields {
    let object: [String: Any]
    /// "FILE: annotations[3]" — the place named in errors.
    let place: String

    init(_ value: Any, place: String) throws {
        guard let object = value as? [String: Any] else { throw EvaluationError("\(place): not a JSON object") }
        self.object = object
        self.place = place
    }

    func has(_ key: String) -> Bool { object[key] != nil && !(object[key] is NSNull) }

    func number(_ key: String) throws -> Double? {
        guard has(key) else { return nil }
        guard let n = object[key] as? NSNumber, n.doubleValue.isFinite else {
            throw EvaluationError("\(place): \"\(key)\" must be a number")
        }
        return n.doubleValue
    }

    func requiredNumber(_ key: String) throws -> Double {
        guard let n = try number(key) else { throw EvaluationError("\(place): missing \"\(key)\"") }
        return n
    }

    /// An integer id; also accepts a string of digits (some tools write ids as text).
    func integer(_ key: String) throws -> Int? {
        guard has(key) else { return nil }
        if let n = object[key] as? NSNumber, n.doubleValue == n.doubleValue.rounded(), abs(n.doubleValue) < 9e15 { return n.intValue }
        if let s = object[key] as? String, let n = Int(s) { return n }
        throw EvaluationError("\(place): \"\(key)\" must be an integer")
    }

    func requiredInteger(_ key: String) throws -> Int {
        guard let n = try integer(key) else { throw EvaluationError("\(place): missing \"\(key)\"") }
        return n
    }

    func string(_ key: String) throws -> String? {
        guard has(key) else { return nil }
        guard let s = object[key] as? String else { throw EvaluationError("\(place): \"\(key)\" must be text") }
        return s
    }

    func bool(_ key: String) -> Bool? {
        guard has(key) else { return nil }
        if let n = object[key] as? NSNumber { return n.boolValue }
        return nil
    }

    /// A list of finite numbers, optionally of a fixed length.
    func numbers(_ key: String, count: Int? = nil) throws -> [Double]? {
        guard has(key) else { return nil }
        guard let list = object[key] as? [Any] else { throw EvaluationError("\(place): \"\(key)\" must be a list of numbers") }
        var out: [Double] = []
        out.reserveCapacity(list.count)
        for v in list {
            guard let n = v as? NSNumber, n.doubleValue.isFinite else {
                throw EvaluationError("\(place): \"\(key)\" must hold only finite numbers")
            }
            out.append(n.doubleValue)
        }
        if let count, out.count != count {
            throw EvaluationError("\(place): \"\(key)\" must hold \(count) numbers, not \(out.count)")
        }
        return out
    }

    func list(_ key: String) throws -> [Any]? {
        guard has(key) else { return nil }
        guard let list = object[key] as? [Any] else { throw EvaluationError("\(place): \"\(key)\" must be a list") }
        return list
    }
}

/// Reads and parses a JSON file, naming the file in errors.
func readJSON(_ path: String, what: String) throws -> Any {
    let data: Data
    do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
        throw EvaluationError("\(path): cannot read \(what): \((error as NSError).localizedDescription)")
    }
    do { return try JSONSerialization.jsonObject(with: data) } catch {
        throw EvaluationError("\(path): \(what) is not valid JSON")
    }
}
