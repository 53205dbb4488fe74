import NIOCore

/// A timer for operations that follow one another on one event loop, at most one pending at a
/// time: the requests of one client connection (their hedge delay), the exchanges of one node
/// connection (their timeout).
///
/// The NIO timer under it is re-armed lazily: setting a deadline no earlier than the armed one
/// schedules nothing, clearing cancels nothing, and when the NIO timer fires it runs the action
/// if it is due or re-arms for it. Operations that come one after another with the same delay
/// cost one NIO timer per delay, not one per operation (a NIO task scheduled and cancelled for
/// each hedge delay and each node exchange's timeout was ~5 % of a proxied request's CPU).
///
/// Only its event loop may use it (it is not `Sendable`).
public final class SequentialTimer: NIOScheduledCallbackHandler {
    let loop: NIOIsolatedEventLoop
    private var pending: (deadline: NIODeadline, action: () -> Void, token: Token)?
    private var lastToken = Token(value: 0)
    private var armed: (callback: NIOScheduledCallback, deadline: NIODeadline)?

    public init(on loop: any EventLoop) {
        self.loop = loop.assumeIsolated()
    }

    /// Which ``set(at:_:)`` an action came from.
    public struct Token: Equatable, Sendable {
        let value: UInt64
    }

    /// Runs `action` on the loop at `deadline`, unless cleared or set again before.
    @discardableResult
    public func set(at deadline: NIODeadline, _ action: @escaping () -> Void) -> Token {
        lastToken = Token(value: lastToken.value &+ 1)
        pending = (deadline, action, lastToken)
        arm(for: deadline)
        return lastToken
    }

    /// Forgets the pending action if it is the one `token` set (an operation that ends after the
    /// next one began must not clear that one's).
    public func clear(_ token: Token) {
        if pending?.token == token { pending = nil }
    }

    /// Forgets the pending action and cancels the NIO timer (when its owner goes away).
    public func cancel() {
        pending = nil
        if let armed { loop.cancelScheduledCallback(armed.callback) }
        armed = nil
    }

    public func handleScheduledCallback(eventLoop: some EventLoop) {
        armed = nil
        guard let pending else { return }
        if pending.deadline <= .now() {
            self.pending = nil
            pending.action()
        } else {
            arm(for: pending.deadline)
        }
    }

    /// Makes sure the NIO timer fires no later than `deadline`.
    private func arm(for deadline: NIODeadline) {
        if let armed {
            if armed.deadline <= deadline { return }
            loop.cancelScheduledCallback(armed.callback)
        }
        // Scheduling fails only on a loop that is shutting down, whose channels close with it.
        armed = (try? loop.scheduleCallback(at: deadline, handler: self)).map { ($0, deadline) }
    }
}
