/// Why a checkpoint cannot become a model; the message names the file and the problem.
public struct ModelError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
