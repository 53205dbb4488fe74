import Foundation
import HeadwayCore
import HeadwayTesting
import NIOCore
import NIOPosix
import Testing

@testable import HeadwayUpstream

/// The lean HTTP/1.1 transport against in-process fake nodes that answer, hang, drop, fail and
/// close.
@Suite struct HTTP1UpstreamTransportTests {
    static let blockNumber = ByteBuffer(string: #"{"jsonrpc":"2.0","id":7,"method":"eth_blockNumber","params":[]}"#)

    /// One event loop, so that every request may reuse the same connection.
    static let loop = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    func transport(_ url: String, maxResponseBytes: Int = 1 << 20) -> HTTP1UpstreamTransport {
        HTTP1UpstreamTransport(url: url, eventLoopGroup: Self.loop, maxResponseBytes: maxResponseBytes)
    }

    static func object(_ body: ByteBuffer) -> [String: Any]? {
        try? JSONSerialization.jsonObject(with: Data(String(buffer: body).utf8)) as? [String: Any]
    }

    func failure(_ body: () async throws(UpstreamFailure) -> ByteBuffer) async -> UpstreamFailure? {
        do {
            _ = try await body()
            return nil
        } catch {
            return error
        }
    }

    @Test func answersAndReusesOneConnection() async throws {
        let node = try await FakeNode.start(name: "n", head: 0x2a)
        defer { Task { await node.stop() } }
        let transport = transport(node.url)
        // Bodies of different lengths in turn: each exchange's Content-Length is its own.
        for id in [7, 123_456_789, 8, 4_000_000_000_000, 9] {
            let body = ByteBuffer(string: #"{"jsonrpc":"2.0","id":\#(id),"method":"eth_blockNumber","params":[]}"#)
            let answer = try await transport.send(body, timeout: .seconds(5))
            #expect(Self.object(answer)?["id"] as? Int == id)
            #expect(Self.object(answer)?["result"] as? String == "0x2a")
            #expect(node.snapshot.lastHeaders["content-length"] == String(body.readableBytes))
        }
        #expect(node.snapshot.connectionsAccepted == 1)
        #expect(node.snapshot.lastHeaders["content-type"] == "application/json")
        #expect(node.snapshot.lastHeaders["host"] == "127.0.0.1:\(node.port)")
    }

    @Test func concurrentRequestsEachGetTheirOwnAnswer() async throws {
        let node = try await FakeNode.start(name: "n")
        defer { Task { await node.stop() } }
        node.update { $0.delay = .milliseconds(20) }
        let transport = transport(node.url)
        let ids = try await withThrowingTaskGroup(of: Int?.self) { group in
            for id in 0..<20 {
                group.addTask {
                    let body = ByteBuffer(string: #"{"jsonrpc":"2.0","id":\#(id),"method":"eth_chainId","params":[]}"#)
                    return Self.object(try await transport.send(body, timeout: .seconds(5)))?["id"] as? Int
                }
            }
            return try await group.reduce(into: [Int?]()) { $0.append($1) }
        }
        #expect(ids.sorted { ($0 ?? -1) < ($1 ?? -1) } == Array(0..<20))
        // Parallel requests need parallel connections; once idle, they are reused.
        let opened = node.snapshot.connectionsAccepted
        #expect(opened > 1)
        _ = try await transport.send(Self.blockNumber, timeout: .seconds(5))
        #expect(node.snapshot.connectionsAccepted == opened)
    }

    @Test func credentialsGoInABasicHeaderAndNeverInMessages() async throws {
        let node = try await FakeNode.start(name: "n")
        defer { Task { await node.stop() } }
        let transport = transport("http://alice:s3cret@127.0.0.1:\(node.port)/rpc?key=topsecret")
        _ = try await transport.send(Self.blockNumber, timeout: .seconds(5))
        #expect(node.snapshot.lastHeaders["authorization"] == "Basic YWxpY2U6czNjcmV0")
        node.update { $0.mode = .http500 }
        let failure = await failure { () throws(UpstreamFailure) in try await transport.send(Self.blockNumber, timeout: .seconds(5)) }
        #expect(failure?.kind == .httpStatus(500))
        #expect(failure?.message.contains("s3cret") == false)
        #expect(failure?.message.contains("topsecret") == false)
    }

    /// A URL whose host would break the request head (a registry entry stored before URLs were
    /// checked for it) never reaches the network: each request fails as not connected.
    @Test func aHostWithControlCharactersIsNeverSent() async {
        let transport = transport("http://127.0.0.1%0d%0aevil:8545/")
        let failure = await failure { () throws(UpstreamFailure) in try await transport.send(Self.blockNumber, timeout: .seconds(5)) }
        #expect(failure?.kind == .connect)
        #expect(failure?.message.contains("bad URL: the host has spaces or control characters") == true, "\(String(describing: failure))")
    }

    /// A node that accepts requests and never answers, and a transport to it.
    func hangingNode() async throws -> (FakeNode, HTTP1UpstreamTransport) {
        let node = try await FakeNode.start(name: "n")
        node.update { $0.mode = .hang }
        return (node, transport(node.url))
    }

    @Test func aHangingNodeTimesOut() async throws {
        let (node, transport) = try await hangingNode()
        defer { Task { await node.stop() } }
        let start = ContinuousClock.now
        let failure = await failure { () throws(UpstreamFailure) in try await transport.send(Self.blockNumber, timeout: .milliseconds(200)) }
        #expect(failure?.kind == .timeout)
        #expect(ContinuousClock.now - start < .seconds(2))
        // The timed-out connection is not reused: its late answer would answer the next request.
        node.update { $0.mode = .normal }
        _ = try await transport.send(Self.blockNumber, timeout: .seconds(5))
        #expect(node.snapshot.connectionsAccepted == 2)
    }

    /// Exchanges on one connection share a timer that is re-armed lazily: a shorter timeout after a
    /// longer one still fires on time, and a longer one after a shorter one does not fire early.
    @Test func eachExchangeOnAReusedConnectionTimesOutAtItsOwnDeadline() async throws {
        let node = try await FakeNode.start(name: "n")
        defer { Task { await node.stop() } }
        let transport = transport(node.url)
        let clock = ContinuousClock()
        // A 5 s timer is armed, then the node hangs: a 200 ms exchange must not wait for it.
        _ = try await transport.send(Self.blockNumber, timeout: .seconds(5))
        node.update { $0.mode = .hang }
        var start = clock.now
        var outcome = await failure { () throws(UpstreamFailure) in try await transport.send(Self.blockNumber, timeout: .milliseconds(200)) }
        #expect(outcome?.kind == .timeout)
        #expect(clock.now - start < .seconds(2))
        // A 1 s timer is armed and outlives its exchange; the next exchange (5 s, answered after
        // 1.5 s) is still in flight when it fires and must get its full time.
        node.update { $0.mode = .normal }
        _ = try await transport.send(Self.blockNumber, timeout: .seconds(1))
        node.update {
            $0.mode = .normal
            $0.delay = .milliseconds(1500)
        }
        start = clock.now
        let answer = try await transport.send(Self.blockNumber, timeout: .seconds(5))
        #expect(String(buffer: answer).contains("result"))
        #expect(clock.now - start >= .milliseconds(1500))
        node.update { $0.mode = .hang }
        start = clock.now
        outcome = await failure { () throws(UpstreamFailure) in try await transport.send(Self.blockNumber, timeout: .milliseconds(300)) }
        #expect(outcome?.kind == .timeout)
        #expect(clock.now - start >= .milliseconds(300))
    }

    @Test func aDroppedConnectionFailsTheRequestAndTheNextOneConnectsAgain() async throws {
        let node = try await FakeNode.start(name: "n")
        defer { Task { await node.stop() } }
        let transport = transport(node.url)
        node.update { $0.mode = .drop }
        let failure = await failure { () throws(UpstreamFailure) in try await transport.send(Self.blockNumber, timeout: .seconds(5)) }
        #expect(failure?.kind == .connectionClosed)
        node.update { $0.mode = .normal }
        let answer = try await transport.send(Self.blockNumber, timeout: .seconds(5))
        #expect(String(buffer: answer).contains("result"))
    }

    @Test func connectionCloseAnswersAreNotReused() async throws {
        let node = try await FakeNode.start(name: "n")
        defer { Task { await node.stop() } }
        node.update { $0.closeAfterAnswer = true }
        let transport = transport(node.url)
        for _ in 0..<3 {
            _ = try await transport.send(Self.blockNumber, timeout: .seconds(5))
        }
        #expect(node.snapshot.connectionsAccepted == 3)
    }

    @Test func garbageIsHandedBackForTheRouterToJudge() async throws {
        let node = try await FakeNode.start(name: "n")
        defer { Task { await node.stop() } }
        node.update { $0.mode = .garbage }
        let answer = try await transport(node.url).send(Self.blockNumber, timeout: .seconds(5))
        #expect(String(buffer: answer) == "<html>oops, not json")
    }

    @Test func anAnswerLargerThanTheLimitIsRefused() async throws {
        let node = try await FakeNode.start(name: "n")
        defer { Task { await node.stop() } }
        let failure = await failure { () throws(UpstreamFailure) in
            try await transport(node.url, maxResponseBytes: 10).send(Self.blockNumber, timeout: .seconds(5))
        }
        #expect(failure?.kind == .badResponse)
    }

    @Test func aStoppedNodeIsAConnectFailure() async throws {
        let node = try await FakeNode.start(name: "n")
        let url = node.url
        await node.stop()
        let failure = await failure { () throws(UpstreamFailure) in try await transport(url).send(Self.blockNumber, timeout: .seconds(5)) }
        #expect(failure?.kind == .connect)
        #expect(failure?.mayHaveReachedNode == false)
    }

    @Test func cancellingAWaitingRequestReturnsAtOnce() async throws {
        let (node, transport) = try await hangingNode()
        defer { Task { await node.stop() } }
        let start = ContinuousClock.now
        let task = Task { () async throws(UpstreamFailure) -> ByteBuffer in try await transport.send(Self.blockNumber, timeout: .seconds(30)) }
        try await Task.sleep(for: .milliseconds(100))
        task.cancel()
        _ = await task.result
        #expect(ContinuousClock.now - start < .seconds(5))
    }

    @Test func onlyPlainHTTPIsHandled() {
        #expect(HTTP1UpstreamTransport.handles("http://127.0.0.1:8545"))
        #expect(HTTP1UpstreamTransport.handles("HTTP://node:8545/path"))
        #expect(!HTTP1UpstreamTransport.handles("https://mainnet.example/v3/key"))
        #expect(!HTTP1UpstreamTransport.handles("ws://127.0.0.1:8546"))
    }
}
