import NIOCore

/// Where a subscription's notifications go: one client connection. Delivery never waits: a
/// client that does not read fills its bounded buffer, and then it is disconnected.
public protocol SubscriptionSink: AnyObject, Sendable {
    /// Queues a complete JSON-RPC message; false when the client's send buffer is full (the
    /// connection is then closed and its subscriptions dropped).
    func deliver(_ message: ByteBuffer) -> Bool
    /// Queues a subscription's notification (shared with the other sinks whose subscription has
    /// the same id: a sink may take its ``SubscriptionNotification/encoded(key:_:)`` bytes);
    /// false when the client's send buffer is full. By default its message is ``deliver(_:)``'d.
    func notify(_ notification: SubscriptionNotification) -> Bool
    /// Takes room for one more subscription on this connection; false at its limit.
    func reserveSubscription() -> Bool
    /// Gives back the room of a subscription that ended.
    func releaseSubscription()
}

extension SubscriptionSink {
    public func notify(_ notification: SubscriptionNotification) -> Bool {
        deliver(notification.message)
    }
}
