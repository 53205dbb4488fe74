import HeadwayCore
import NIOCore
import NIOWebSocket
import Synchronization

/// One client WebSocket connection as the gateway sees it. Outgoing messages (answers and
/// subscription notifications) are written straight to the connection's NIO channel from its
/// event loop (through the loop's ``EventLoopWriteQueue``): no task hop per message, so one
/// block reaches 10,000 subscribers quickly. Messages
/// not yet handed to the kernel are counted; past `send_buffer` of them the client is too slow
/// and the connection ends. It also keeps the count of its subscriptions and when the client was
/// last heard from.
final class WebSocketConnection: SubscriptionSink {
    /// Why the connection is being closed by the gateway.
    enum Ending: Sendable, Equatable {
        case overflow
        case idle
        case shutdown
    }

    let channel: any Channel
    let sendBuffer: Int
    let maxSubscriptions: Int
    /// Messages written but not yet taken by the kernel.
    let unsent = Atomic<Int>(0)
    let subscriptions = Atomic<Int>(0)
    let ended = Atomic<Bool>(false)
    let ending = Mutex<Ending?>(nil)
    let lastHeard = Mutex(ContinuousClock.now)
    /// Finishes when the connection ends: the handler then sends the close frame.
    let endings: AsyncStream<Void>
    let endingsContinuation: AsyncStream<Void>.Continuation

    /// The write queue of the channel's event loop.
    let writeQueue: EventLoopWriteQueue

    init(channel: any Channel, writeQueue: EventLoopWriteQueue, sendBuffer: Int, maxSubscriptions: Int) {
        self.channel = channel
        self.writeQueue = writeQueue
        self.sendBuffer = max(1, sendBuffer)
        self.maxSubscriptions = maxSubscriptions
        (endings, endingsContinuation) = AsyncStream.makeStream(of: Void.self)
    }

    func deliver(_ message: ByteBuffer) -> Bool {
        guard !hasEnded else { return false }
        guard unsent.wrappingAdd(1, ordering: .relaxed).newValue <= sendBuffer else {
            unsent.subtract(1, ordering: .relaxed)
            end(.overflow)
            return false
        }
        writeQueue.enqueue(message, for: self)
        return true
    }

    /// A message was handed to the kernel (or dropped with the connection).
    func written() {
        unsent.subtract(1, ordering: .relaxed)
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
