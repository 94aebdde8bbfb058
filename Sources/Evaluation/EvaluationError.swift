/// A ground-truth or prediction file that cannot be evaluated; the message names the file and the problem.
public struct EvaluationError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
