import HeadwayCore
import Yams

/// Typed reads of YAML nodes that record every problem with its key path and line, so that one
/// pass over a file reports everything wrong with it.
struct ConfigReader {
    let environment: [String: String]
    var errors: [ConfigError] = []
    /// Environment variables referenced but unset (they read as empty strings).
    var missingVariables: [String] = []

    mutating func fail(_ path: String, _ node: Node?, _ message: String) {
        errors.append(ConfigError(key: path, line: node?.mark?.line, message: message))
    }

    /// The members of a mapping; unknown and repeated keys are reported.
    mutating func members(_ node: Node, at path: String, allowed: Set<String>) -> [(key: String, value: Node)] {
        guard case .mapping(let mapping) = node else {
            fail(path, node, "expected a mapping")
            return []
        }
        var seen: Set<String> = []
        var result: [(String, Node)] = []
        for (keyNode, value) in mapping {
            guard let key = keyNode.scalar?.string else {
                fail(path, keyNode, "keys must be strings")
                continue
            }
            let keyPath = path.isEmpty ? key : "\(path).\(key)"
            if !allowed.isEmpty && !allowed.contains(key) {
                fail(keyPath, keyNode, "unknown key (expected one of: \(allowed.sorted().joined(separator: ", ")))")
                continue
            }
            if !seen.insert(key).inserted {
                fail(keyPath, keyNode, "key appears twice")
                continue
            }
            result.append((key, value))
        }
        return result
    }

    mutating func string(_ node: Node, at path: String) -> String? {
        guard let scalar = node.scalar else {
            fail(path, node, "expected a string")
            return nil
        }
        return EnvironmentSubstitution.substitute(scalar.string, environment: environment, missing: &missingVariables)
    }

    mutating func integer(_ node: Node, at path: String, range: ClosedRange<Int>) -> Int? {
        guard let text = string(node, at: path) else { return nil }
        guard let value = Int(text) else {
            fail(path, node, "expected an integer, got \(text.debugDescription)")
            return nil
        }
        guard range.contains(value) else {
            fail(path, node, "must be between \(range.lowerBound) and \(range.upperBound), got \(value)")
            return nil
        }
        return value
    }

    mutating func duration(_ node: Node, at path: String) -> Duration? {
        guard let text = string(node, at: path) else { return nil }
        guard let value = DurationParser.parse(text), value > .zero else {
            fail(path, node, "expected a positive duration such as 500ms, 5s, 2m or 1h, got \(text.debugDescription)")
            return nil
        }
        return value
    }

    mutating func listen(_ node: Node, at path: String) -> ListenAddress? {
        guard let text = string(node, at: path) else { return nil }
        guard let address = ListenAddress(parsing: text) else {
            fail(path, node, "expected host:port, got \(text.debugDescription)")
            return nil
        }
        return address
    }

    mutating func stringList(_ node: Node, at path: String) -> [String]? {
        guard case .sequence(let sequence) = node else {
            fail(path, node, "expected a list")
            return nil
        }
        return sequence.enumerated().compactMap { string($0.element, at: "\(path)[\($0.offset)]") }
    }

    mutating func boolean(_ node: Node, at path: String) -> Bool? {
        guard let text = string(node, at: path) else { return nil }
        switch text.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default:
            fail(path, node, "expected true or false, got \(text.debugDescription)")
            return nil
        }
    }

    /// A number from 0 to 1 (a share).
    mutating func fraction(_ node: Node, at path: String) -> Double? {
        guard let text = string(node, at: path) else { return nil }
        guard let value = Double(text), (0...1).contains(value), value > 0 else {
            fail(path, node, "expected a number above 0 and at most 1, got \(text.debugDescription)")
            return nil
        }
        return value
    }
}
