/// Which methods are blocked by policy (`server.blocked_methods`). How the others are retried and
/// routed is ``MethodClass``.
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
}
