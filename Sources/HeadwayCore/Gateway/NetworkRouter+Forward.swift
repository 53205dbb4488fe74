import JSONRPC
import NIOCore

/// How a forwarded request ended.
public enum ForwardOutcome: Sendable {
    /// An upstream answered (with a result or its own JSON-RPC error).
    case answered(JSONRPCResponse, upstream: String, attempts: Int)
    /// A notification was delivered (nodes send nothing back for those).
    case delivered(upstream: String, attempts: Int)
    /// Nothing could answer; `reason` is for the client (no secrets).
    case unavailable(reason: String, attempts: Int)
}

extension NetworkRouter {
    /// Sends a request to the best upstream; on a failure before any response came back, to the
    /// next candidate, within the network's deadline. Non-idempotent methods are not sent again
    /// once they may have reached a node.
    public func forward(_ request: JSONRPCRequest) async -> ForwardOutcome {
        let candidates = routingTable.candidates()
        guard !candidates.isEmpty else {
            return .unavailable(reason: "no healthy upstream in network \(name)", attempts: 0)
        }
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: config.request.deadline)
        let retryable = !MethodTable.isNonIdempotent(request.method)
        var attempts = 0
        var lastFailure: UpstreamFailure?
        for handle in candidates {
            let remaining = clock.now.duration(to: deadline)
            guard remaining > .zero, !Task.isCancelled else {
                lastFailure = UpstreamFailure(.timeout, "deadline of \(config.request.deadline) passed")
                break
            }
            attempts += 1
            let failure: UpstreamFailure
            do {
                let body = try await handle.send(request.body, timeout: min(config.request.attemptTimeout, remaining))
                if request.isNotification { return .delivered(upstream: handle.name, attempts: attempts) }
                if let response = JSONRPCResponse(scanning: body) {
                    return .answered(response, upstream: handle.name, attempts: attempts)
                }
                failure = UpstreamFailure(.badResponse, "\(handle.name) returned a body that is not a JSON-RPC response")
            } catch {
                failure = error
            }
            lastFailure = failure
            logger.debug(
                "upstream attempt failed",
                metadata: ["network": "\(name)", "upstream": "\(handle.name)", "method": "\(request.method)", "reason": "\(failure.message)"])
            if failure.mayHaveReachedNode && !retryable {
                return .unavailable(
                    reason: "\(request.method) may have reached \(handle.name), which failed (\(failure.message)); not sent again",
                    attempts: attempts)
            }
        }
        let detail = lastFailure.map { ": \($0.message)" } ?? ""
        return .unavailable(reason: "every upstream of network \(name) failed\(detail)", attempts: attempts)
    }
}
