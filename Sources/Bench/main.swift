// `make bench`: each module's benchmark section is one file in this folder, listed here in run order.
import Foundation

let sections: [(name: String, run: () throws -> Void)] = []

var failed = false
for section in sections {
    print("== \(section.name)")
    do { try section.run() } catch {
        FileHandle.standardError.write(Data("bench \(section.name): \(error)\n".utf8))
        failed = true
    }
}
if sections.isEmpty { print("no benchmark sections yet") }
exit(failed ? 1 : 0)
