/// What the gateway knows about methods: which are blocked by policy and which must never be
/// sent twice.
public struct MethodTable: Sendable {
    let blockedExact: Set<String>
    let blockedPrefixes: [String]

    /// `patterns`: exact names or `prefix_*`.
    public init(blocked patterns: [String]) {
        blockedExact = Set(patterns.filter { !$0.hasSuffix("*") })
        blockedPrefixes = patterns.filter { $0.hasSuffix("*") }.map { String($0.dropLast()) }
    }

    public func isBlocked(_ method: String) -> Bool {
        blockedExact.contains(method) || blockedPrefixes.contains { method.hasPrefix($0) }
    }

    /// Methods whose effect is not idempotent: once they may have reached a node they are never
    /// sent to another one. (`eth_sendRawTransaction` is not among them: the signed bytes are the
    /// same wherever they land.)
    public static func isNonIdempotent(_ method: String) -> Bool {
        nonIdempotent.contains(method) || method.hasPrefix("personal_") || method.hasPrefix("eth_sign")
    }

    static let nonIdempotent: Set<String> = [
        "eth_sendTransaction", "eth_sign", "eth_signTransaction", "eth_signTypedData",
        "eth_signTypedData_v3", "eth_signTypedData_v4",
    ]
}
