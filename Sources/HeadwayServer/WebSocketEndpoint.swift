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

    /// Live connections, for the limit.
    final class ConnectionCount: Sendable {
        let value = Atomic<Int>(0)
    }

    public init(gateway: Gateway, limits: WebSocketConfig) {
        self.gateway = gateway
        self.limits = limits
        self.connections = ConnectionCount()
    }

    /// The server builder: HTTP/1.1 with the WebSocket upgrade on the JSON-RPC paths.
    public var serverBuilder: HTTPServerBuilder {
        let configuration = HTTP1WebSocketUpgradeChannel.Configuration(
            ws: WebSocketServerConfiguration(maxFrameSize: limits.maxMessageBytes, autoPing: .enabled(timePeriod: .seconds(30))))
        let socketSendBuffer = limits.socketSendBuffer
        return .http1WebSocketUpgrade(configuration: configuration) { request, channel, _ in
            // At the limit, or for an unknown network, the request is not upgraded: the HTTP
            // routes answer it (503 or 404, see RPCRoutes).
            guard let network = network(for: request.path ?? "/"), connections.value.load(ordering: .relaxed) < limits.maxConnections else {
                return .dontUpgrade
            }
            // A fixed kernel send buffer: bounded memory per connection, and a client that stops
            // reading is noticed after send_buffer messages, not after megabytes of autotuning.
            try await channel.setOption(ChannelOptions.socketOption(.so_sndbuf), value: SocketOptionValue(socketSendBuffer)).get()
            return .upgrade([:]) { inbound, outbound, context in
                try await serve(network: network, channel: channel, inbound: inbound, outbound: outbound, logger: context.logger)
            }
        }
    }

    /// The network a WebSocket path reaches, if any.
    func network(for path: String) -> NetworkRouter? {
        let trimmed = path.split(separator: "?", maxSplits: 1).first.map(String.init) ?? path
        if trimmed == "/" || trimmed.isEmpty { return gateway.defaultNetwork }
        let name = trimmed.dropFirst()
        guard !name.contains("/") else { return nil }
        return gateway.networks[String(name)]
    }

    func serve(
        network: NetworkRouter, channel: any Channel, inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, logger: Logger
    ) async throws {
        connections.value.add(1, ordering: .relaxed)
        defer { connections.value.subtract(1, ordering: .relaxed) }
        let connection = WebSocketConnection(channel: channel, sendBuffer: limits.sendBuffer, maxSubscriptions: limits.maxSubscriptions)
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
                group.addTask {
                    await watchIdle(connection)
                    return .watcher
                }
                // Until the connection ends (the client left, was too slow, was idle, or the
                // server shuts down); then the close frame.
                await connection.waitForEnd()
                try await sendClose(connection, to: outbound)
                // The client answers a close frame with its own, which ends the reader; one that
                // does not gets the close handshake's time, then the connection is dropped.
                group.addTask {
                    try? await Task.sleep(for: closeTimeout)
                    return .timer
                }
                while let finished = try await group.next(), finished == .watcher {}
                group.cancelAll()
            }
        } onGracefulShutdown: {
            connection.end(.shutdown)
        }
    }

    /// The tasks of a connection.
    enum Finished: Sendable {
        case reader
        case watcher
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

    /// Ends a connection that holds no subscription and has said nothing for `idle_timeout`.
    /// It sleeps until the connection could first be idle, so 10,000 quiet connections cost no
    /// wake-ups in between.
    func watchIdle(_ connection: WebSocketConnection) async {
        while !Task.isCancelled, !connection.hasEnded {
            let wait = connection.timeUntilIdle(limits.idleTimeout)
            if wait <= .zero {
                connection.end(.idle)
                return
            }
            try? await Task.sleep(for: wait)
        }
    }
}
