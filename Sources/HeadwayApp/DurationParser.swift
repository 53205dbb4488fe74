/// Durations in configuration files: `500ms`, `5s`, `2m`, `1h`, and sums such as `1m30s`.
enum DurationParser {
    static func parse(_ text: String) -> Duration? {
        var total = Duration.zero
        var rest = Substring(text.filter { $0 != " " && $0 != "\t" })
        guard !rest.isEmpty else { return nil }
        while !rest.isEmpty {
            let digits = rest.prefix { $0.isNumber || $0 == "." }
            guard !digits.isEmpty, let value = Double(digits) else { return nil }
            rest = rest.dropFirst(digits.count)
            let unit = rest.prefix { $0.isLetter }
            rest = rest.dropFirst(unit.count)
            let seconds: Double
            switch unit {
            case "ms": seconds = value / 1000
            case "s": seconds = value
            case "m": seconds = value * 60
            case "h": seconds = value * 3600
            default: return nil
            }
            total += .milliseconds(Int64((seconds * 1000).rounded()))
        }
        return total
    }
}
