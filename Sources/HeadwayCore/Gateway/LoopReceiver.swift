import NIOCore

/// Gets a value on the event loop that asked for it: how the steps of the event-loop request path
/// (``Gateway/handleOnLoop(_:network:on:hedgeTimer:to:)``, ``NetworkRouter`` and the transport's
/// ``UpstreamTransport/send(_:timeout:on:to:)``) hand their result back. An object that is already
/// there (the client connection's handler, the request's ``LoopExchange``) takes it directly:
/// no promise, future, callback list or closure context per request.
///
/// `receive` is called once, on that loop, possibly before the call that started the work returns
/// (an answer from the cache, a connection that failed at once).
public protocol LoopReceiver<Value>: AnyObject {
    associatedtype Value
    func receive(_ value: Value)
}

/// A ``LoopReceiver`` that completes a promise: for callers that want a future (tests, the async
/// bridge).
public final class PromiseReceiver<Value: Sendable>: LoopReceiver, Sendable {
    public let promise: EventLoopPromise<Value>

    public init(_ promise: EventLoopPromise<Value>) {
        self.promise = promise
    }

    public func receive(_ value: Value) {
        promise.succeed(value)
    }
}

extension EventLoopFuture {
    /// Hands the value to `receiver` once the future succeeds: for futures that cannot fail (a
    /// task whose closure does not throw). Call on the future's loop.
    func deliver(to receiver: any LoopReceiver<Value>) {
        assumeIsolated().whenSuccess { receiver.receive($0) }
    }
}
