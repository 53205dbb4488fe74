import Foundation

/// Hides the secrets an upstream URL often carries: userinfo, the query string and path
/// segments that look like API keys (long runs of letters and digits, e.g. `/v3/9aa3d95b…`).
public enum URLRedactor {
    public static let mask = "***"

    public static func redact(_ url: String) -> String {
        var rest = Substring(url)
        var output = ""
        if let schemeEnd = rest.range(of: "://") {
            output += rest[..<schemeEnd.upperBound]
            rest = rest[schemeEnd.upperBound...]
        }
        // Fragment and query: dropped behind a mask.
        var suffix = ""
        if let hash = rest.firstIndex(of: "#") {
            rest = rest[..<hash]
        }
        if let question = rest.firstIndex(of: "?") {
            suffix = "?" + mask
            rest = rest[..<question]
        }
        let authorityEnd = rest.firstIndex(of: "/") ?? rest.endIndex
        var authority = rest[..<authorityEnd]
        if let at = authority.lastIndex(of: "@") {
            output += mask + "@"
            authority = authority[authority.index(after: at)...]
        }
        output += authority
        let path = rest[authorityEnd...]
        if !path.isEmpty {
            output += path.split(separator: "/", omittingEmptySubsequences: false)
                .map { looksLikeKey($0) ? mask : String($0) }
                .joined(separator: "/")
        }
        return output + suffix
    }

    /// Whether a path segment looks like a credential rather than a route name.
    static func looksLikeKey(_ segment: Substring) -> Bool {
        guard segment.count >= 16 else { return false }
        var digits = 0
        var letters = 0
        for scalar in segment.unicodeScalars {
            switch scalar {
            case "0"..."9": digits += 1
            case "a"..."z", "A"..."Z": letters += 1
            case "-", "_", ".", "=", "+", "~": break
            default: return false
            }
        }
        // A long segment of mixed letters and digits, or a very long one of either.
        return (digits > 0 && letters > 0) || segment.count >= 24
    }

    /// Replaces every occurrence of `url`'s secret parts in free text (an error message that
    /// quotes the URL) with the redacted form.
    public static func scrub(_ text: String, url: String) -> String {
        text.replacingOccurrences(of: url, with: redact(url))
    }
}
