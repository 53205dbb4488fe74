import NIOCore

/// A JSON value kept as its original bytes (an `id`, `params` or `result`), never re-encoded.
public struct RawJSON: Sendable, Hashable, CustomStringConvertible {
    public var bytes: ByteBuffer

    public init(_ bytes: ByteBuffer) {
        self.bytes = bytes
    }

    public init(_ text: String) {
        self.bytes = ByteBuffer(string: text)
    }

    public static let null = RawJSON("null")

    public var description: String { String(buffer: bytes) }
}
