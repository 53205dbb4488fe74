import HeadwayCore
import NIOCore
import NIOPosix

/// Sends JSON-RPC bodies to one plain-HTTP upstream over keep-alive HTTP/1.1 connections built
/// directly on SwiftNIO: each request is written in one flush, the response body is handed back
/// as it arrived (no re-encoding), and connections are pooled per event loop so that taking one
/// needs no lock. HTTPS upstreams use ``HTTPUpstreamTransport`` (AsyncHTTPClient) instead.
///
/// Credentials in the URL's userinfo are sent as a Basic `Authorization` header; messages name
/// the upstream only by its redacted URL.
public struct HTTP1UpstreamTransport: UpstreamTransport {
    let pool: HTTP1ConnectionPool

    /// - Parameters:
    ///   - idleTimeout: an idle connection older than this is not reused.
    ///   - maxIdle: idle connections kept per event loop.
    public init(
        url: String, eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        maxResponseBytes: Int = 256 * 1024 * 1024, connectTimeout: Duration = .seconds(2), idleTimeout: Duration = .seconds(30),
        maxIdle: Int = 256
    ) {
        let target = HTTP1Target(
            url: url, maxResponseBytes: maxResponseBytes, connectTimeout: TimeAmount(connectTimeout),
            idleTimeout: TimeAmount(idleTimeout), maxIdle: maxIdle)
        pool = HTTP1ConnectionPool(group: eventLoopGroup, target: target)
    }

    /// Whether this transport can reach `url` (plain `http://`).
    public static func handles(_ url: String) -> Bool {
        url.lowercased().hasPrefix("http://")
    }

    public func send(_ body: ByteBuffer, timeout: Duration) async throws(UpstreamFailure) -> ByteBuffer {
        let loop = pool.group.any()
        let promise = loop.makePromise(of: Result<ByteBuffer, UpstreamFailure>.self)
        let receiver = PromiseReceiver(promise)
        loop.execute { send(body, timeout: timeout, on: loop, to: receiver) }
        let result: Result<ByteBuffer, UpstreamFailure>
        do {
            result = try await withTaskCancellationHandler {
                try await promise.futureResult.get()
            } onCancel: {
                // The connection finishes (or times out) on its own and is reused; nobody waits.
                promise.succeed(.failure(UpstreamFailure(.connectionClosed, "\(pool.target.redactedURL): request cancelled")))
            }
        } catch {
            throw UpstreamFailure(.connectionClosed, "\(pool.target.redactedURL): \(error)")
        }
        return try result.get()
    }

    /// Starts an exchange over a connection of `loop`'s pool (the group's first loop's when
    /// `loop` is not one of the group), from code running on `loop`: directly when that is the
    /// pool's loop, no hop at all.
    public func send(_ body: ByteBuffer, timeout: Duration, on loop: any EventLoop, to receiver: UpstreamReceiver) {
        let deadline = NIODeadline.now() + TimeAmount(timeout)
        let bound = pool.loops[ObjectIdentifier(loop)] ?? pool.first
        if bound.eventLoop === loop {
            bound.value.send(body, deadline: deadline, to: receiver, bound: bound)
        } else {
            // Another group's loop: the exchange runs on the pool's loop, its result comes back here.
            let promise = bound.eventLoop.makePromise(of: Result<ByteBuffer, UpstreamFailure>.self)
            bound.eventLoop.execute { bound.value.send(body, deadline: deadline, to: PromiseReceiver(promise), bound: bound) }
            promise.futureResult.hop(to: loop).assumeIsolated().whenSuccess { receiver.receive($0) }
        }
    }
}

/// One ``HTTP1LoopPool`` per event loop of the group.
final class HTTP1ConnectionPool: Sendable {
    let group: any EventLoopGroup
    let target: HTTP1Target
    let loops: [ObjectIdentifier: NIOLoopBoundBox<HTTP1LoopPool>]
    let first: NIOLoopBoundBox<HTTP1LoopPool>

    init(group: any EventLoopGroup, target: HTTP1Target) {
        self.group = group
        self.target = target
        var loops: [ObjectIdentifier: NIOLoopBoundBox<HTTP1LoopPool>] = [:]
        var first: NIOLoopBoundBox<HTTP1LoopPool>?
        for loop in group.makeIterator() {
            let bound = NIOLoopBoundBox.makeBoxSendingValue(HTTP1LoopPool(eventLoop: loop, target: target), eventLoop: loop)
            loops[ObjectIdentifier(loop)] = bound
            first = first ?? bound
        }
        self.loops = loops
        self.first = first!
    }

    deinit {
        for bound in loops.values {
            bound.eventLoop.execute { bound.value.close() }
        }
    }
}
