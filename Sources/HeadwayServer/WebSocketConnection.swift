import HeadwayCore
import NIOCore
import Synchronization

/// One client WebSocket connection as the gateway sees it. Outgoing messages (answers and
/// subscription notifications) are built as whole text frames, in one buffer each, and written
/// from the channel's event loop through its ``EventLoopWriteQueue`` and the channel's
/// ``WebSocketFrameWriter``: no task hop and no handler per message, so one block reaches 10,000
/// subscribers quickly. A client that lets more than `send_buffer_bytes` pile up is too slow and
/// the connection ends. It also keeps the count of its subscriptions and when the client was
/// last heard from.
final class WebSocketConnection: SubscriptionSink {
    /// Why the connection is being closed by the gateway.
    enum Ending: Sendable, Equatable {
        case overflow
        case idle
        case shutdown
    }

    let channel: any Channel
    let writer: NIOLoopBound<WebSocketFrameWriter>
    let maxSubscriptions: Int
    let subscriptions = Atomic<Int>(0)
    let ended = Atomic<Bool>(false)
    let ending = Mutex<Ending?>(nil)
    let lastHeard = Mutex(ContinuousClock.now)
    /// Finishes when the connection ends: the handler then sends the close frame.
    let endings: AsyncStream<Void>
    let endingsContinuation: AsyncStream<Void>.Continuation

    /// The write queue of the channel's event loop.
    let writeQueue: EventLoopWriteQueue

    init(channel: any Channel, writer: NIOLoopBound<WebSocketFrameWriter>, writeQueue: EventLoopWriteQueue, maxSubscriptions: Int) {
        self.channel = channel
        self.writer = writer
        self.writeQueue = writeQueue
        self.maxSubscriptions = maxSubscriptions
        (endings, endingsContinuation) = AsyncStream.makeStream(of: Void.self)
    }

    func deliver(_ message: ByteBuffer) -> Bool {
        guard !hasEnded else { return false }
        var frame = WebSocketFrameWriter.textFrame(length: message.readableBytes)
        frame.writeImmutableBuffer(message)
        writeQueue.enqueue(frame, for: self)
        return true
    }

    /// The notification's frame, built by the first connection that sends it and shared with
    /// every other (a block goes out as one buffer, whatever the number of subscribers).
    func notify(_ notification: SubscriptionNotification) -> Bool {
        guard !hasEnded else { return false }
        let frame = notification.encoded(key: ObjectIdentifier(WebSocketConnection.self)) { notification in
            var frame = WebSocketFrameWriter.textFrame(length: notification.byteCount)
            notification.write(into: &frame)
            return frame
        }
        writeQueue.enqueue(frame, for: self)
        return true
    }

    func reserveSubscription() -> Bool {
        var current = subscriptions.load(ordering: .relaxed)
        while current < maxSubscriptions {
            let (exchanged, original) = subscriptions.compareExchange(expected: current, desired: current + 1, ordering: .relaxed)
            if exchanged { return true }
            current = original
        }
        return false
    }

    func releaseSubscription() {
        subscriptions.subtract(1, ordering: .relaxed)
    }

    /// Ends the connection (the first reason given wins): nothing more is sent but the close frame.
    func end(_ reason: Ending? = nil) {
        if let reason { ending.withLock { if $0 == nil { $0 = reason } } }
        ended.store(true, ordering: .relaxed)
        endingsContinuation.finish()
    }

    /// Whether the connection is ending.
    var hasEnded: Bool { ended.load(ordering: .relaxed) }

    /// Waits until the connection ends.
    func waitForEnd() async {
        for await _ in endings {}
    }

    func heard() {
        lastHeard.withLock { $0 = .now }
    }

    /// How long until the connection is idle (nothing heard for `timeout`, no subscription);
    /// zero or less when it is. A connection with subscriptions is looked at again after `timeout`.
    func timeUntilIdle(_ timeout: Duration) -> Duration {
        guard subscriptions.load(ordering: .relaxed) == 0 else { return timeout }
        return timeout - lastHeard.withLock { $0 }.duration(to: .now)
    }
}
