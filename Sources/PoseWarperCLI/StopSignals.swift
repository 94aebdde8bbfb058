import ArgumentParser
import Dispatch
import Failures
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// SIGINT (Ctrl-C) and SIGTERM, handled alike by every command from the start of the process
/// (`install()` in `PoseWarperCommand.main`): the first asks the work to stop after the frame in
/// progress and finish its outputs (`onStop`); a second, or a first before there is anything to
/// finish, removes every temporary output file and exits at once. Either way the exit code is
/// 128 + the signal: 130 for SIGINT, 143 for SIGTERM. Also ignores SIGPIPE (a closed stdout surfaces
/// as EPIPE) and SIGXFSZ (a file-size limit surfaces as EFBIG, reported with the file).
final class StopSignals: @unchecked Sendable {
    /// The process's one handler.
    static let shared = StopSignals()

    private let lock = NSLock()
    private var sources: [DispatchSourceSignal] = []
    private var stop: (() -> Void)?
    private var command = ""
    private var received: Int32?

    /// Installs the handlers (first thing in the process, so no signal finds the default action).
    static func install() { _ = shared }

    private init() {
        signal(SIGPIPE, SIG_IGN)
        signal(SIGXFSZ, SIG_IGN)
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [unowned self] in self.handle(number) }
            source.resume()
            sources.append(source)
        }
    }

    /// What the first signal does from now on (until then it exits at once); `command` names the
    /// command in the message printed then.
    func onStop(command: String, _ action: @escaping () -> Void) {
        lock.lock(); stop = action; self.command = command; lock.unlock()
    }

    /// The exit code for the signal received, if one was.
    var exitCode: Int32? {
        lock.lock(); defer { lock.unlock() }
        return received.map(ExitStatus.code(forSignal:))
    }

    private func handle(_ number: Int32) {
        lock.lock()
        let first = received == nil
        received = number
        let action = first ? stop : nil
        let command = self.command
        lock.unlock()
        guard let action else { TemporaryFiles.removeAllAndExit(ExitStatus.code(forSignal: number)) }
        let name = number == SIGTERM ? "terminated (SIGTERM)" : "interrupted"
        FileHandle.standardError.write(Data("\nposewarper \(command): \(name); finishing the outputs (Ctrl-C again to quit at once)\n".utf8))
        action()
    }
}

/// Runs a command's body with one error mapping for every command: a message naming the file and
/// the problem on stderr, and `ExitStatus`'s code (usage errors and explicit exit codes pass through).
func reportingErrors(_ command: String, _ body: () throws -> Void) throws {
    do {
        try body()
    } catch let e as ExitCode {
        throw e
    } catch let e as ValidationError {
        throw e
    } catch {
        FileHandle.standardError.write(Data("posewarper \(command): \(error)\n".utf8))
        throw ExitCode(ExitStatus.code(for: error))
    }
}
