import Foundation
import HeadwayCore
import HeadwayTesting
import HummingbirdWSClient
import Logging
import NIOCore
import Synchronization
import Testing

/// The WebSocket endpoint's limits, against the real server.
@Suite(.serialized) struct WebSocketTests {
    func gateway(_ configure: (inout WebSocketConfig) -> Void) async throws -> (GatewayHarness, FakeNode) {
        let node = try await FakeNode.start(name: "a")
        var config = GatewayHarness.config([node.node])
        configure(&config.server.ws)
        let gateway = try await GatewayHarness.start(config)
        _ = try await gateway.eventually { try await gateway.inRotation("a") }
        return (gateway, node)
    }

    var logger: Logger {
        var logger = Logger(label: "ws-test")
        logger.logLevel = .warning
        return logger
    }

    /// Connects, runs `body`, and returns the close frame the server sent.
    func connect(
        _ gateway: GatewayHarness, _ body: @escaping @Sendable (WebSocketInboundStream, WebSocketOutboundWriter) async throws -> Void
    ) async throws -> WebSocketCloseFrame? {
        try await WebSocketClient.connect(
            url: gateway.rpc.replacingOccurrences(of: "http://", with: "ws://"),
            configuration: .init(maxFrameSize: 1 << 20), logger: logger
        ) { inbound, outbound, _ in
            try await body(inbound, outbound)
        }
    }

    /// Reads until the server closes, failing (not hanging) when it does not within `limit`.
    func drain(_ inbound: WebSocketInboundStream, within limit: Duration) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { for try await _ in inbound {} }
            group.addTask {
                try await Task.sleep(for: limit)
                throw CancellationError()
            }
            try await group.next()
            group.cancelAll()
        }
    }

    @Test func aClientThatStopsReadingIsDisconnectedAtItsBufferLimit() async throws {
        let (gateway, _) = try await gateway {
            $0.sendBufferBytes = 65536
            $0.socketSendBuffer = 16384
        }
        defer { Task { await gateway.stop() } }
        let payload = String(repeating: "ab", count: 8 * 1024)
        let close = try await connect(gateway) { inbound, outbound in
            // 160 answers of 16 KB each (2.5 MB), more than the sockets hold, and nothing read.
            for index in 0..<160 {
                try await outbound.write(.text(#"{"jsonrpc":"2.0","id":\#(index),"method":"eth_echo","params":["\#(payload)"]}"#))
            }
            try await Task.sleep(for: .seconds(2))
            try await drain(inbound, within: .seconds(10))
        }
        #expect(close?.closeCode == .policyViolation)
        #expect(close?.reason?.contains("send buffer full") == true)
        // The gateway goes on serving.
        #expect(try await gateway.call("eth_getBalance").status == 200)
    }

    @Test func subscriptionsPerConnectionAreLimited() async throws {
        let (gateway, _) = try await gateway { $0.maxSubscriptions = 2 }
        defer { Task { await gateway.stop() } }
        let answers = Mutex<[String]>([])
        _ = try await connect(gateway) { inbound, outbound in
            var messages = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
            for index in 0..<3 {
                try await outbound.write(.text(#"{"jsonrpc":"2.0","id":\#(index),"method":"eth_subscribe","params":["newHeads"]}"#))
                if case .text(let text)? = try await messages.next() { answers.withLock { $0.append(text) } }
            }
            try await outbound.close(.normalClosure, reason: nil)
        }
        let replies = answers.withLock { $0 }
        #expect(replies.count == 3)
        #expect(replies.prefix(2).allSatisfy { $0.contains(#""result":"0x"#) })
        #expect(replies.last?.contains("-32005") == true && replies.last?.contains("max_subscriptions") == true)
    }

    @Test func connectionsAreLimited() async throws {
        let (gateway, _) = try await gateway { $0.maxConnections = 1 }
        defer { Task { await gateway.stop() } }
        let refused = Mutex<(any Error)?>(nil)
        let accepted = Atomic<Bool>(false)
        _ = try await connect(gateway) { inbound, outbound in
            // Once the first connection has answered, it is counted.
            try await outbound.write(.text(#"{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}"#))
            var messages = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
            _ = try await messages.next()
            do {
                _ = try await connect(gateway) { _, outbound in
                    accepted.store(true, ordering: .relaxed)
                    try await outbound.close(.normalClosure, reason: nil)
                }
            } catch {
                refused.withLock { $0 = error }
            }
            try await outbound.close(.normalClosure, reason: nil)
        }
        let wasAccepted = accepted.load(ordering: .relaxed)
        #expect(!wasAccepted, "the second upgrade was refused")
        #expect(refused.withLock { $0 } != nil)
    }

    @Test func anIdleConnectionIsClosed() async throws {
        let (gateway, _) = try await gateway { $0.idleTimeout = .seconds(1) }
        defer { Task { await gateway.stop() } }
        let clock = ContinuousClock()
        let started = clock.now
        let close = try await connect(gateway) { inbound, _ in try await drain(inbound, within: .seconds(10)) }
        #expect(close?.closeCode == .normalClosure)
        #expect(close?.reason == "idle")
        #expect(started.duration(to: clock.now) < .seconds(4))
    }
}
