import Foundation
import HeadwayCore
import NIOCore
import NIOHTTP1
import NIOPosix

/// The keep-alive connections to one upstream that belong to one event loop. Only that loop
/// touches it, so taking and returning a connection needs no lock.
final class HTTP1LoopPool {
    let eventLoop: any EventLoop
    let target: HTTP1Target
    private var idle: [HTTP1Connection] = []
    /// Set once the transport is gone: connections are closed instead of kept.
    private var isClosed = false

    init(eventLoop: any EventLoop, target: HTTP1Target) {
        self.eventLoop = eventLoop
        self.target = target
    }

    /// Sends `body` over an idle connection, or a new one; the result goes to `receiver`.
    func send(_ body: ByteBuffer, deadline: NIODeadline, to receiver: UpstreamReceiver, bound: NIOLoopBoundBox<HTTP1LoopPool>) {
        if let problem = target.urlProblem {
            receiver.receive(.failure(UpstreamFailure(.connect, "\(target.redactedURL): bad URL: \(problem)")))
            return
        }
        let now = NIODeadline.now()
        while let connection = idle.popLast() {
            if connection.isOpen && now - connection.idleSince < target.idleTimeout {
                connection.start(body, deadline: deadline, to: receiver)
                return
            }
            connection.close()
        }
        let target = self.target
        let connectTimeout = min(target.connectTimeout, max(deadline - now, .zero))
        ClientBootstrap(group: eventLoop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 1024, initial: 4096, maximum: 16384))
            .connectTimeout(connectTimeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    // The head is Headway's own, built once per connection from a checked URL
                    // (`UpstreamDefinition.urlProblem`) with its `Content-Length` set: NIO need not
                    // validate its headers on every request nor reframe them (which copies them).
                    var encoder = HTTPRequestEncoder.Configuration()
                    encoder.automaticallySetFramingHeaders = false
                    try channel.pipeline.syncOperations.addHTTPClientHandlers(
                        enableOutboundHeaderValidation: false, encoderConfiguration: encoder)
                    try channel.pipeline.syncOperations.addHandler(HTTP1Connection(pool: bound, target: target))
                }
            }
            .connect(host: target.url.host, port: target.url.port)
            .assumeIsolated()  // the bootstrap's group is this pool's loop
            .whenComplete { result in
                switch result {
                case .success(let channel):
                    guard let connection = try? channel.pipeline.syncOperations.handler(type: HTTP1Connection.self) else {
                        channel.close(promise: nil)
                        receiver.receive(.failure(UpstreamFailure(.connect, "\(target.redactedURL): could not set up the connection")))
                        return
                    }
                    connection.start(body, deadline: deadline, to: receiver)
                case .failure(let error):
                    receiver.receive(.failure(Self.connectFailure(error, target: target)))
                }
            }
    }

    /// Takes back a connection whose exchange ended cleanly. Idle connections are reused last in,
    /// first out, so the one at the bottom has been idle longest: when that is longer than
    /// `surplusAfter`, the pool has had more connections than its traffic needs and it is closed
    /// (a burst of concurrent requests leaves connections that would otherwise stay open).
    func release(_ connection: HTTP1Connection) {
        if isClosed || idle.count >= target.maxIdle {
            connection.close()
            return
        }
        if let oldest = idle.first, connection.idleSince - oldest.idleSince > target.surplusAfter {
            idle.removeFirst()
            oldest.close()
        }
        idle.append(connection)
    }

    /// Drops a connection that closed.
    func forget(_ connection: HTTP1Connection) {
        if let index = idle.firstIndex(where: { $0 === connection }) {
            idle.remove(at: index)
        }
    }

    /// Closes the idle connections; later ones close when their exchange ends.
    func close() {
        isClosed = true
        let connections = idle
        idle.removeAll()
        for connection in connections { connection.close() }
    }

    static func connectFailure(_ error: any Error, target: HTTP1Target) -> UpstreamFailure {
        var underlying = error
        if let error = error as? NIOConnectionError {
            guard let first = error.connectionErrors.first else {
                return UpstreamFailure(.connect, "\(target.redactedURL): could not resolve \(target.url.host)")
            }
            underlying = first.error
        }
        let reason: String
        switch underlying {
        case ChannelError.connectTimeout: reason = "connect timeout"
        case let error as IOError where error.errnoCode == ECONNREFUSED: reason = "connection refused"
        case let error as IOError where [EHOSTUNREACH, ENETUNREACH].contains(error.errnoCode): reason = "host unreachable"
        default: reason = "could not connect (\(underlying))"
        }
        return UpstreamFailure(.connect, "\(target.redactedURL): \(reason)")
    }
}
