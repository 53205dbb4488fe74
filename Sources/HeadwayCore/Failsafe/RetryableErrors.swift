import JSONRPC

/// `networks.NAME.request.retry_on`: node-side JSON-RPC errors that mean "this node cannot answer
/// this now" (another node may), as opposed to answers (an EVM revert, invalid params).
public struct RetryableErrors: Sendable, Equatable {
    /// `codes` (list of integers, default `[-32005]`): error codes retried on another upstream.
    public var codes: [Int] = [-32005]
    /// `messages` (list of strings): an error whose message contains one of these (ignoring case)
    /// is retried on another upstream.
    public var messages: [String] = [
        "header not found", "block not found", "no block found", "unknown block", "missing trie node", "historical state",
        "state not available", "pruned", "too many requests", "rate limit", "limit exceeded", "try again later",
        "busy",
    ]

    public init() {}

    /// Whether another upstream may answer where this error came from. Reverts, invalid params
    /// and invalid requests are answers and are never retried.
    public func isRetryable(_ error: JSONRPCError, methodClass: MethodClass) -> Bool {
        guard methodClass.retriesNodeErrors, !Self.isAnswer(error) else { return false }
        if methodClass == .read && error.code == -32601 { return true }  // that node lacks the namespace
        if codes.contains(error.code) { return true }
        let message = error.message.lowercased()
        return messages.contains { message.contains($0.lowercased()) }
    }

    /// Errors that are the answer whoever is asked.
    public static func isAnswer(_ error: JSONRPCError) -> Bool {
        let message = error.message.lowercased()
        return error.code == 3 || error.code == -32602 || error.code == -32600 || message.hasPrefix("execution reverted")
            || message.contains("revert")
    }
}

/// `networks.NAME.request.hedge`: a second attempt for slow reads.
public struct HedgeConfig: Sendable, Equatable {
    /// `enabled` (boolean, default true).
    public var enabled = true
    /// `min_delay` (duration, default 50ms): never hedge sooner.
    public var minDelay: Duration = .milliseconds(50)
    /// `max_delay` (duration, default 1s): hedge at the latest after this.
    public var maxDelay: Duration = .seconds(1)

    public init() {}
}
