/// `${NAME}` and `${NAME:-default}` in configuration values.
enum EnvironmentSubstitution {
    /// Returns `text` with every reference replaced; `missing` collects the names that were unset
    /// and had no default (they become empty strings).
    static func substitute(_ text: String, environment: [String: String], missing: inout [String]) -> String {
        guard text.contains("${") else { return text }
        var output = ""
        var rest = Substring(text)
        while let start = rest.range(of: "${") {
            output += rest[..<start.lowerBound]
            guard let end = rest[start.upperBound...].firstIndex(of: "}") else {
                output += rest[start.lowerBound...]
                return output
            }
            let reference = rest[start.upperBound..<end]
            let name: Substring
            var fallback: Substring?
            if let separator = reference.range(of: ":-") {
                name = reference[..<separator.lowerBound]
                fallback = reference[separator.upperBound...]
            } else {
                name = reference
            }
            if let value = environment[String(name)], !value.isEmpty {
                output += value
            } else if let fallback {
                output += fallback
            } else {
                missing.append(String(name))
            }
            rest = rest[rest.index(after: end)...]
        }
        output += rest
        return output
    }
}
