import NIOCore

/// A JSON-RPC error object, with the EIP-1474 codes the gateway itself produces.
public struct JSONRPCError: Error, Sendable, Equatable {
    public var code: Int
    public var message: String

    public init(code: Int, message: String) {
        self.code = code
        self.message = message
    }

    /// -32700: the body is not JSON.
    public static func parseError(_ detail: String) -> JSONRPCError {
        JSONRPCError(code: -32700, message: "parse error: \(detail)")
    }
    /// -32600: not a valid request object, or an empty batch.
    public static func invalidRequest(_ detail: String) -> JSONRPCError {
        JSONRPCError(code: -32600, message: "invalid request: \(detail)")
    }
    /// -32002: nothing can serve the request; `reason` says why.
    public static func resourceUnavailable(_ reason: String) -> JSONRPCError {
        JSONRPCError(code: -32002, message: "resource unavailable: \(reason)")
    }
    /// -32004: the method is blocked by policy.
    public static func methodNotSupported(_ method: String) -> JSONRPCError {
        JSONRPCError(code: -32004, message: "method not supported: \(method)")
    }
    /// -32005: a size limit was exceeded.
    public static func limitExceeded(_ detail: String) -> JSONRPCError {
        JSONRPCError(code: -32005, message: "limit exceeded: \(detail)")
    }
    /// -32603: an internal gateway error.
    public static func internalError(_ detail: String) -> JSONRPCError {
        JSONRPCError(code: -32603, message: "internal error: \(detail)")
    }

    /// Encodes a complete error response object answering the request with `id`.
    public func response(id: RawJSON?) -> ByteBuffer {
        var buffer = ByteBuffer()
        write(id: id, into: &buffer)
        return buffer
    }

    /// Writes a complete error response object answering the request with `id` into `buffer`.
    public func write(id: RawJSON?, into buffer: inout ByteBuffer) {
        var message: [UInt8] = []
        JSONString.appendQuoted(self.message, to: &message)
        buffer.writeStaticString(#"{"jsonrpc":"2.0","id":"#)
        if let id {
            var idBytes = id.bytes
            buffer.writeBuffer(&idBytes)
        } else {
            buffer.writeStaticString("null")
        }
        buffer.writeStaticString(#","error":{"code":"#)
        buffer.writeString(String(code))
        buffer.writeStaticString(#","message":"#)
        buffer.writeBytes(message)
        buffer.writeStaticString("}}")
    }
}
