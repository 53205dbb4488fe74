import HeadwayCore
import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOWebSocket
import ServiceLifecycle
import Synchronization

/// JSON-RPC over WebSocket on the RPC listener, at `/` (one network) and `/{network}`: every
/// method, batches, and `eth_subscribe` / `eth_unsubscribe`. Text and binary frames are both
/// read (web3.py sends binary); answers and notifications go out as text frames.
public struct WebSocketEndpoint: Sendable {
    let gateway: Gateway
    let limits: WebSocketConfig
    let connections: ConnectionCount
    let writeQueues = EventLoopWriteQueues()

    /// Live connections: their number (for the limit) and the connections themselves (for the
    /// idle sweep).
    final class ConnectionCount: Sendable {
        let value = Atomic<Int>(0)
        let live = Mutex<[ObjectIdentifier: WebSocketConnection]>([:])

        func add(_ connection: WebSocketConnection) {
            value.add(1, ordering: .relaxed)
            live.withLock { $0[ObjectIdentifier(connection)] = connection }
        }

        func remove(_ connection: WebSocketConnection) {
            value.subtract(1, ordering: .relaxed)
            live.withLock { $0[ObjectIdentifier(connection)] = nil }
        }
    }

    public init(gateway: Gateway, limits: WebSocketConfig) {
        self.gateway = gateway
        self.limits = limits
        self.connections = ConnectionCount()
    }

    /// The server builder: HTTP/1.1 with the WebSocket upgrade on the JSON-RPC paths, and
    /// JSON-RPC over HTTP served in the channel by ``RPCChannelHandler`` (bodies up to
    /// `maxBodyBytes`).
    public func serverBuilder(maxBodyBytes: Int) -> HTTPServerBuilder {
        let gateway = self.gateway
        let configuration = HTTP1WebSocketUpgradeChannel.Configuration(
            http1: .init(additionalChannelHandlers: [RPCChannelHandler.Installer(RPCChannelHandler(gateway: gateway, maxBodyBytes: maxBodyBytes))]),
            ws: WebSocketServerConfiguration(maxFrameSize: limits.maxMessageBytes, autoPing: .enabled(timePeriod: .seconds(30))))
        let socketSendBuffer = limits.socketSendBuffer
        let sendBufferBytes = limits.sendBufferBytes
        return .http1WebSocketUpgrade(configuration: configuration) { request, channel, _ in
            // At the limit, or for an unknown network, the request is not upgraded: the HTTP
            // routes answer it (503 or 404, see RPCRoutes).
            guard let network = network(for: request.path ?? "/"), connections.value.load(ordering: .relaxed) < limits.maxConnections else {
                return .dontUpgrade
            }
            // A fixed kernel send buffer: bounded memory per connection, and a client that stops
            // reading is noticed after send_buffer_bytes more, not after megabytes of autotuning.
            try await channel.setOption(ChannelOptions.socketOption(.so_sndbuf), value: SocketOptionValue(socketSendBuffer)).get()
            try await channel.setOption(
                ChannelOptions.writeBufferWaterMark, value: .init(low: sendBufferBytes / 2, high: sendBufferBytes)
            ).get()
            return .upgrade([:]) { inbound, outbound, context in
                try await serve(network: network, channel: channel, inbound: inbound, outbound: outbound, logger: context.logger)
            }
        }
    }

    /// The network a WebSocket path reaches, if any.
    func network(for path: String) -> NetworkRouter? {
        gateway.network(forPath: path)
    }

    func serve(
        network: NetworkRouter, channel: any Channel, inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, logger: Logger
    ) async throws {
        let writer = try await channel.eventLoop.submit {
            let writer = WebSocketFrameWriter()
            try channel.pipeline.syncOperations.addHandler(writer, position: .first)
            return NIOLoopBound(writer, eventLoop: channel.eventLoop)
        }.get()
        let connection = WebSocketConnection(
            channel: channel, writer: writer, writeQueue: writeQueues.queue(for: channel.eventLoop),
            maxSubscriptions: limits.maxSubscriptions)
        connections.add(connection)
        defer { connections.remove(connection) }
        let hub = gateway.hubs[network.name]
        defer {
            hub?.drop(connection)
            connection.end()
        }
        try await withGracefulShutdownHandler {
            try await withThrowingTaskGroup(of: Finished.self) { group in
                group.addTask {
                    defer { connection.end() }
                    try await read(inbound, into: connection, network: network)
                    return .reader
                }
                // Until the connection ends (the client left, was too slow, was idle, or the
                // server shuts down); then the close frame.
                await connection.waitForEnd()
                group.addTask {
                    try? await sendClose(connection, to: outbound)
                    return .closeSent
                }
                // The client answers a close frame with its own, which ends the reader; one that
                // does not (or does not even read it) gets the close handshake's time, then the
                // connection is dropped.
                group.addTask {
                    try? await Task.sleep(for: closeTimeout)
                    return .timer
                }
                while let finished = try await group.next(), finished == .closeSent {}
                try? await channel.close()
                group.cancelAll()
            }
        } onGracefulShutdown: {
            connection.end(.shutdown)
        }
    }

    /// The tasks of a connection.
    enum Finished: Sendable {
        case reader
        case closeSent
        case timer
    }

    /// How long a client has to answer the gateway's close frame.
    var closeTimeout: Duration { .seconds(5) }

    /// Sends the close frame for the reason the connection ended, if the gateway ended it.
    func sendClose(_ connection: WebSocketConnection, to outbound: WebSocketOutboundWriter) async throws {
        switch connection.ending.withLock({ $0 }) {
        case .overflow?:
            try await outbound.close(.policyViolation, reason: "send buffer full: the client does not read fast enough")
        case .idle?:
            try await outbound.close(.normalClosure, reason: "idle")
        case .shutdown?:
            try await outbound.close(.goingAway, reason: "server shutting down")
        case nil:
            break
        }
    }

    /// Reads client messages; each is handled in its own task, its answer queued when ready.
    func read(_ inbound: WebSocketInboundStream, into connection: WebSocketConnection, network: NetworkRouter) async throws {
        try await withThrowingDiscardingTaskGroup { requests in
            for try await message in inbound.messages(maxSize: limits.maxMessageBytes) {
                connection.heard()
                let body: ByteBuffer
                switch message {
                case .text(let text): body = ByteBuffer(string: text)
                case .binary(let buffer): body = buffer
                }
                requests.addTask {
                    let reply = await gateway.handle(body, network: network, session: connection)
                    if let answer = reply.body { _ = connection.deliver(answer) }
                }
            }
        }
    }

    /// Ends the connections that hold no subscription and have said nothing for `idle_timeout`:
    /// one sweep a second for all of them (no task per connection).
    public func sweepIdleConnections() async {
        let period = min(limits.idleTimeout, .seconds(1))
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            try? await Task.sleep(for: period)
            let live = connections.live.withLock { Array($0.values) }
            for connection in live where connection.timeUntilIdle(limits.idleTimeout) <= .zero {
                connection.end(.idle)
            }
        }
    }
}

/// The WebSocket endpoint's idle sweep, run with the other services.
public struct WebSocketIdleSweep: Service {
    let endpoint: WebSocketEndpoint

    public init(endpoint: WebSocketEndpoint) {
        self.endpoint = endpoint
    }

    public func run() async {
        await endpoint.sweepIdleConnections()
    }
}
