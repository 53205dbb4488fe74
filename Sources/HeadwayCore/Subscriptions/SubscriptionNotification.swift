import NIOCore
import Synchronization

/// One event of a subscription:
/// `{"jsonrpc":"2.0","method":"eth_subscription","params":{"subscription":ID,"result":RESULT}}`.
/// Every client subscription with the same id (see ``SubscriptionHub``) gets the same one, so
/// the message, and a transport's encoding of it (a WebSocket frame), are built once per block
/// and shared by all of them.
public final class SubscriptionNotification: Sendable {
    public let subscription: String
    public let result: ByteBuffer
    /// The first transport encoding asked for, by the encoder's key.
    let encoding = Mutex<(key: ObjectIdentifier, bytes: ByteBuffer)?>(nil)

    static let prefix: StaticString = #"{"jsonrpc":"2.0","method":"eth_subscription","params":{"subscription":""#
    static let middle: StaticString = #"","result":"#
    static let suffix: StaticString = "}}"

    public init(subscription: String, result: ByteBuffer) {
        self.subscription = subscription
        self.result = result
    }

    /// The message's length in bytes.
    public var byteCount: Int {
        Self.prefix.utf8CodeUnitCount + subscription.utf8.count + Self.middle.utf8CodeUnitCount + result.readableBytes
            + Self.suffix.utf8CodeUnitCount
    }

    /// Appends the message to `buffer`.
    public func write(into buffer: inout ByteBuffer) {
        buffer.writeStaticString(Self.prefix)
        buffer.writeString(subscription)
        buffer.writeStaticString(Self.middle)
        buffer.writeImmutableBuffer(result)
        buffer.writeStaticString(Self.suffix)
    }

    /// The message on its own.
    public var message: ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: byteCount)
        write(into: &buffer)
        return buffer
    }

    /// The message as `encode` turns it into bytes, built by the first caller with that `key`
    /// (the sinks of one transport encode alike) and shared with the others.
    public func encoded(key: ObjectIdentifier, _ encode: (SubscriptionNotification) -> ByteBuffer) -> ByteBuffer {
        if let cached = encoding.withLock({ $0 }), cached.key == key { return cached.bytes }
        let bytes = encode(self)
        encoding.withLock { if $0 == nil { $0 = (key, bytes) } }
        return bytes
    }
}
