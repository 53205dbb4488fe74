import HeadwayCore
import NIOCore
import Synchronization

/// One client WebSocket connection as the gateway sees it: a bounded queue of outgoing messages
/// (answers and subscription notifications) that one writer drains, the count of its
/// subscriptions, and when it was last heard from.
final class WebSocketConnection: SubscriptionSink {
    /// Why the connection is being closed by the gateway.
    enum Ending: Sendable, Equatable {
        case overflow
        case idle
        case shutdown
    }

    let outgoing: AsyncStream<ByteBuffer>
    let continuation: AsyncStream<ByteBuffer>.Continuation
    let maxSubscriptions: Int
    let subscriptions = Atomic<Int>(0)
    let ending = Mutex<Ending?>(nil)
    let lastHeard = Mutex(ContinuousClock.now)

    init(sendBuffer: Int, maxSubscriptions: Int) {
        (outgoing, continuation) = AsyncStream.makeStream(of: ByteBuffer.self, bufferingPolicy: .bufferingOldest(max(1, sendBuffer)))
        self.maxSubscriptions = maxSubscriptions
    }

    func deliver(_ message: ByteBuffer) -> Bool {
        switch continuation.yield(message) {
        case .enqueued:
            return true
        case .dropped:
            end(.overflow)
            return false
        case .terminated:
            return false
        @unknown default:
            return false
        }
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

    let ended = Atomic<Bool>(false)

    /// Stops the writer after what is queued (the first reason given wins).
    func end(_ reason: Ending? = nil) {
        if let reason { ending.withLock { if $0 == nil { $0 = reason } } }
        ended.store(true, ordering: .relaxed)
        continuation.finish()
    }

    /// Whether the connection is ending (its writer stops after what is queued).
    var hasEnded: Bool { ended.load(ordering: .relaxed) }

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
