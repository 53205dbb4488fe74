import Foundation
import HeadwayCore
import HeadwayTesting
import NIOCore
import NIOPosix
import Testing

/// JSON-RPC served in the HTTP channel (RPCChannelHandler), seen from a raw HTTP/1.1 client:
/// responses in request order whatever path each request takes, `Connection: close`, the body
/// limit, and everything that is not JSON-RPC still answered by the router.
@Suite(.serialized) struct InChannelRPCTests {
    /// Writes `requests` in one go on one connection and reads until the server closes it.
    func exchange(_ port: Int, _ requests: String) async throws -> String {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
            }
        // Closed after 10 s whatever happens: what came back so far is what the test sees.
        let closer = Task {
            try await Task.sleep(for: .seconds(10))
            try await channel.channel.close()
        }
        defer { closer.cancel() }
        return try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(string: requests))
            var received = ""
            do {
                for try await chunk in inbound { received += String(buffer: chunk) }
            } catch {}
            return received
        }
    }

    func post(_ path: String = "/", _ body: String, close: Bool = false, extra: String = "") -> String {
        "POST \(path) HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: \(body.utf8.count)\r\n"
            + (close ? "connection: close\r\n" : "") + extra + "\r\n" + body
    }

    func call(_ method: String, id: Int, params: String = "[]") -> String {
        #"{"jsonrpc":"2.0","id":\#(id),"method":"\#(method)","params":\#(params)}"#
    }

    func start(_ node: FakeNode, maxBodyBytes: Int = 1_000_000) async throws -> (GatewayHarness, Int) {
        var config = GatewayHarness.config([node.node])
        config.server.maxBodyBytes = maxBodyBytes
        let gateway = try await GatewayHarness.start(config)
        try await gateway.eventually { try await gateway.inRotation("a") }
        return (gateway, Int(gateway.rpc.split(separator: ":").last!)!)
    }

    @Test func pipelinedRequestsAreAnsweredInOrderWhicheverPathTheyTake() async throws {
        let a = try await FakeNode.start(name: "a")
        let (gateway, port) = try await start(a)
        defer { Task { await gateway.stop() } }
        a.update { $0.delay = .milliseconds(200) }
        // A slow read (answered in the channel), a batch (answered by a task), a GET (the
        // router's 405), a fast read, then a read on a closing connection.
        let requests =
            post(body: call("eth_getBalance", id: 1)) + post(body: "[" + call("eth_chainId", id: 2) + "]")
            + "GET / HTTP/1.1\r\nhost: x\r\n\r\n" + post(body: call("eth_chainId", id: 4))
            + post(body: call("eth_getBalance", id: 5), close: true)
        let clock = ContinuousClock()
        let started = clock.now
        let received = try await exchange(port, requests)
        #expect(started.duration(to: clock.now) < .seconds(5), "the connection closed after the request that asked for it")
        let order = ["\"id\":1", "\"id\":2", "POST", "\"id\":4", "\"id\":5"].map { received.range(of: $0)?.lowerBound }
        #expect(order.allSatisfy { $0 != nil }, "\(received)")
        #expect(order.compactMap { $0 } == order.compactMap { $0 }.sorted(), "\(received)")
        #expect(received.components(separatedBy: "HTTP/1.1 ").count - 1 == 5)
        #expect(received.contains("HTTP/1.1 405"))
        #expect(received.lowercased().contains("x-headway-upstream: a"))
    }

    /// `Connection: close` on HTTP/1.1, and HTTP/1.0 without `Connection: keep-alive`.
    @Test(arguments: ["HTTP/1.1 with connection: close", "HTTP/1.0"])
    func theConnectionClosesAfterTheAnswerWhenTheClientAsks(_ version: String) async throws {
        let a = try await FakeNode.start(name: "a")
        let (gateway, port) = try await start(a)
        defer { Task { await gateway.stop() } }
        let clock = ContinuousClock()
        let started = clock.now
        let body = call("eth_getBalance", id: 1)
        let request =
            version == "HTTP/1.0"
            ? "POST / HTTP/1.0\r\ncontent-length: \(body.utf8.count)\r\n\r\n" + body : post(body: body, close: true)
        let received = try await exchange(port, request)
        #expect(started.duration(to: clock.now) < .seconds(5))
        #expect(received.lowercased().contains("connection: close"), "\(received)")
        #expect(received.contains(#""id":1"#))
    }

    @Test func aMalformedRequestAfterOneBeingAnsweredGetsItsErrorAfterThatAnswer() async throws {
        let a = try await FakeNode.start(name: "a")
        let (gateway, port) = try await start(a)
        defer { Task { await gateway.stop() } }
        a.update { $0.delay = .milliseconds(100) }
        let received = try await exchange(port, post(body: call("eth_getBalance", id: 1)) + "NOT HTTP AT ALL\r\n\r\n")
        #expect(received.hasPrefix("HTTP/1.1 200"), "\(received)")
        #expect(received.contains(#""id":1"#))
        #expect(received.contains("HTTP/1.1 400"), "\(received)")
    }

    @Test func hundredsOfPipelinedRequestsAnsweredAtOnceComeBackInOrder() async throws {
        let a = try await FakeNode.start(name: "a")
        let (gateway, port) = try await start(a)
        defer { Task { await gateway.stop() } }
        // The first eth_chainId goes to the node; the 399 behind it, waiting meanwhile, are
        // answered from the cache one after the other as they are replayed.
        let count = 400
        let requests = (1...count).map { post(body: call("eth_chainId", id: $0), close: $0 == count) }.joined()
        let received = try await exchange(port, requests)
        let ids = received.components(separatedBy: #""id":"#).dropFirst().map { Int($0.prefix { $0.isNumber }) ?? -1 }
        #expect(ids == Array(1...count), "\(received.suffix(300))")
        #expect(received.lowercased().components(separatedBy: "x-headway-cache: hit").count - 1 == count - 1)
    }

    @Test func aBodyOverTheLimitIs413AndTheConnectionServesOn() async throws {
        let a = try await FakeNode.start(name: "a")
        let (gateway, port) = try await start(a, maxBodyBytes: 100)
        defer { Task { await gateway.stop() } }
        let big = call("eth_call", id: 1, params: "[\"" + String(repeating: "a", count: 200) + "\"]")
        let received = try await exchange(port, post(body: big) + post(body: call("eth_chainId", id: 2), close: true))
        #expect(received.hasPrefix("HTTP/1.1 413"), "\(received)")
        #expect(received.contains("-32005"))
        #expect(received.contains(#""result":"0x1""#) && received.contains(#""id":2"#), "\(received)")
    }

    @Test func unknownNetworksAndWebSocketPathsStillReachTheRouter() async throws {
        let a = try await FakeNode.start(name: "a")
        let (gateway, port) = try await start(a)
        defer { Task { await gateway.stop() } }
        let received = try await exchange(port, post("/mars", call("eth_chainId", id: 1), close: true))
        #expect(received.hasPrefix("HTTP/1.1 404"), "\(received)")
        #expect(received.contains("unknown network"))
        let byName = try await exchange(port, post("/dev", call("eth_chainId", id: 1), close: true))
        #expect(byName.contains(#""result":"0x1""#), "\(byName)")
        #expect(byName.lowercased().contains("date: "))
    }
}

extension InChannelRPCTests {
    func post(body: String, close: Bool = false) -> String { post("/", body, close: close) }
}
