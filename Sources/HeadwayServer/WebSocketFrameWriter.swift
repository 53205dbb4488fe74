import NIOCore

/// Writes whole WebSocket frames, built by the gateway, straight to the socket: it sits next to
/// the pipeline's head, so a message to a subscriber passes no other handler (no frame encoder,
/// no async-channel bridge) on its way out. Only used on the channel's event loop.
final class WebSocketFrameWriter: ChannelOutboundHandler {
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var context: ChannelHandlerContext?
    /// Whether something was written since the last flush.
    private var unflushed = false

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    /// Writes one frame; true when it is the first since the last flush (the caller then owes
    /// this writer a ``flush()``).
    func write(_ frame: ByteBuffer) -> Bool {
        guard let context else { return false }
        context.write(Self.wrapOutboundOut(frame), promise: nil)
        defer { unflushed = true }
        return !unflushed
    }

    func flush() {
        unflushed = false
        context?.flush()
    }

    /// The header of an unmasked final text frame (a server's) with `length` bytes of payload.
    static func headerSize(length: Int) -> Int {
        length < 126 ? 2 : length <= 0xFFFF ? 4 : 10
    }

    /// A buffer holding the text frame header for `length` bytes of payload, with room for them.
    static func textFrame(length: Int) -> ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: headerSize(length: length) + length)
        buffer.writeInteger(UInt8(0x81))
        if length < 126 {
            buffer.writeInteger(UInt8(length))
        } else if length <= 0xFFFF {
            buffer.writeInteger(UInt8(126))
            buffer.writeInteger(UInt16(length))
        } else {
            buffer.writeInteger(UInt8(127))
            buffer.writeInteger(UInt64(length))
        }
        return buffer
    }
}
