/// A problem in a configuration file: the offending key (dotted path), its line, and what is wrong.
public struct ConfigError: Error, Equatable, CustomStringConvertible {
    public var key: String
    public var line: Int?
    public var message: String

    public init(key: String, line: Int?, message: String) {
        self.key = key
        self.line = line
        self.message = message
    }

    public var description: String {
        let place = line.map { " (line \($0))" } ?? ""
        return key.isEmpty ? "\(message)\(place)" : "\(key)\(place): \(message)"
    }
}

/// Every problem found in one file.
public struct ConfigErrors: Error, CustomStringConvertible {
    public var errors: [ConfigError]

    public var description: String {
        errors.map(\.description).joined(separator: "\n")
    }
}
