import Foundation
import HeadwayCore
import HeadwayTesting
import Testing

/// The gateway in front of fake nodes that lag, freeze, hang, drop connections, answer HTTP 500
/// and return garbage: no client request fails while another node could answer.
@Suite(.serialized) struct FailoverTests {
    @Test func killingANodeUnderLoadFailsNoRequest() async throws {
        let a = try await FakeNode.start(name: "a")
        let b = try await FakeNode.start(name: "b")
        a.update { $0.delay = .milliseconds(30) }
        b.update { $0.delay = .milliseconds(30) }
        let gateway = try await GatewayHarness.start(GatewayHarness.config([a.node, b.node]))
        defer { Task { await gateway.stop() } }
        try await gateway.eventually { try await gateway.allInRotation("a", "b") }

        let failures = try await withThrowingTaskGroup(of: Int.self) { group in
            for worker in 0..<8 {
                group.addTask {
                    var failed = 0
                    for index in 0..<40 {
                        let reply = try await gateway.call("eth_getBalance", id: "\(worker * 1000 + index)")
                        if reply.status != 200 || !reply.body.contains(#""result""#) || !reply.body.contains(#""id":\#(worker * 1000 + index)"#) {
                            failed += 1
                        }
                    }
                    return failed
                }
            }
            // Kill a while requests are in flight on it.
            try await Task.sleep(for: .milliseconds(150))
            await a.stop()
            return try await group.reduce(0, +)
        }
        #expect(failures == 0)
        #expect(try await gateway.eventually { try await gateway.state("a") == "unreachable" })
    }

    @Test(arguments: [FakeNode.Mode.hang, .http500, .garbage, .drop])
    func aMisbehavingNodeCostsTheClientNothing(mode: FakeNode.Mode) async throws {
        let bad = try await FakeNode.start(name: "bad")
        let good = try await FakeNode.start(name: "good")
        let gateway = try await GatewayHarness.start(GatewayHarness.config([bad.node, good.node]))
        defer { Task { await gateway.stop() } }
        try await gateway.eventually { try await gateway.allInRotation("bad", "good") }
        bad.update { $0.mode = mode }
        for index in 0..<10 {
            let reply = try await gateway.call("web3_clientVersion", id: "\(index)")
            #expect(reply.status == 200, "\(mode): \(reply.body)")
            #expect(
                reply.body == #"{"id":\#(index),"jsonrpc":"2.0","result":"fake\/good"}"# || reply.body.contains("fake/good")
                    || reply.body.contains(#"fake\/good"#))
        }
        #expect(try await gateway.eventually { try await gateway.state("bad") == "unreachable" })
    }

    @Test func aLaggingNodeLeavesWithinAnIntervalAndReturnsAfterRecoverAfterRounds() async throws {
        let a = try await FakeNode.start(name: "a", head: 1000)
        let b = try await FakeNode.start(name: "b", head: 1000)
        let gateway = try await GatewayHarness.start(GatewayHarness.config([a.node, b.node], interval: .milliseconds(200), maxLag: 10, recoverAfter: 3))
        defer { Task { await gateway.stop() } }
        try await gateway.eventually { try await gateway.allInRotation("a", "b") }

        // a freezes at 1000 while b moves on.
        b.update { $0.head = 1011 }
        let clock = ContinuousClock()
        let start = clock.now
        #expect(try await gateway.eventually(within: .seconds(2)) { try await gateway.state("a") == "lagging" })
        #expect(start.duration(to: clock.now) < .milliseconds(700), "left rotation within one interval (plus a probe)")
        #expect(try await gateway.inRotation("a") == false)
        let before = a.clientCalls
        for _ in 0..<20 { _ = try await gateway.call("eth_getBalance") }
        #expect(a.clientCalls == before, "no client traffic to a lagging node")

        // a catches up: healthy again at once, back in rotation only after 3 good rounds.
        a.update { $0.head = 1011 }
        #expect(try await gateway.eventually { try await gateway.state("a") == "healthy" })
        let healthyAt = clock.now
        #expect(try await gateway.inRotation("a") == false)
        #expect(try await gateway.eventually { try await gateway.inRotation("a") })
        #expect(healthyAt.duration(to: clock.now) >= .milliseconds(300), "waited for recover_after rounds")
    }

    @Test func theFallbackServesOnlyWhileNoPrimaryIsHealthy() async throws {
        let a = try await FakeNode.start(name: "a")
        let b = try await FakeNode.start(name: "b")
        let fallback = try await FakeNode.start(name: "public")
        let gateway = try await GatewayHarness.start(GatewayHarness.config([a.node, b.node, fallback.fallback()], recoverAfter: 1))
        defer { Task { await gateway.stop() } }
        try await gateway.eventually { try await gateway.allInRotation("a", "b") }
        for _ in 0..<10 { _ = try await gateway.call("eth_getBalance") }
        #expect(fallback.clientCalls == 0)

        let port = (a.port, b.port)
        await a.stop()
        await b.stop()
        for index in 0..<10 {
            let reply = try await gateway.call("web3_clientVersion", id: "\(index)")
            #expect(reply.status == 200)
            #expect(reply.body.contains("public"))
        }
        #expect(try await gateway.eventually { try await gateway.states("a", "b") == ["unreachable", "unreachable"] })

        // Primaries come back: traffic returns to them.
        try await a.restart()
        try await b.restart()
        #expect(port == (a.port, b.port))
        #expect(try await gateway.eventually { try await gateway.anyInRotation("a", "b") })
        let fallbackCalls = fallback.clientCalls
        for _ in 0..<10 {
            let reply = try await gateway.call("web3_clientVersion")
            #expect(!reply.body.contains("public"))
        }
        #expect(fallback.clientCalls == fallbackCalls)
    }

    @Test func anUpstreamOnTheWrongChainNeverGetsClientTraffic() async throws {
        let right = try await FakeNode.start(name: "right", chainID: 1)
        let wrong = try await FakeNode.start(name: "wrong", chainID: 5, head: 5000)
        let gateway = try await GatewayHarness.start(GatewayHarness.config([wrong.node, right.node]))
        defer { Task { await gateway.stop() } }
        #expect(try await gateway.eventually { try await gateway.state("wrong") == "wrong_chain" })
        try await gateway.eventually { try await gateway.inRotation("right") }
        for _ in 0..<20 { _ = try await gateway.call("eth_getBalance") }
        #expect(wrong.clientCalls == 0)
        #expect(try await gateway.upstream("right")["lag"] as? Int == 0, "a wrong-chain head does not count toward the network head")
    }

    @Test func aSyncingNodeIsOutOfRotation() async throws {
        let a = try await FakeNode.start(name: "a")
        let b = try await FakeNode.start(name: "b")
        a.update { $0.syncing = true }
        let gateway = try await GatewayHarness.start(GatewayHarness.config([a.node, b.node]))
        defer { Task { await gateway.stop() } }
        #expect(try await gateway.eventually { try await gateway.state("a") == "syncing" })
        for _ in 0..<10 { _ = try await gateway.call("eth_getBalance") }
        #expect(a.clientCalls == 0)
    }

    @Test func everythingDownIs503WithAReason() async throws {
        let a = try await FakeNode.start(name: "a")
        let gateway = try await GatewayHarness.start(GatewayHarness.config([a.node]))
        defer { Task { await gateway.stop() } }
        try await gateway.eventually { try await gateway.inRotation("a") }
        await a.stop()
        let reply = try await gateway.call("eth_getBalance", id: "\"q\"")
        #expect(reply.status == 503)
        #expect(reply.body.hasPrefix(#"{"jsonrpc":"2.0","id":"q","error":{"code":-32002,"message":"resource unavailable: "#))
        let ready = try await gateway.admin(.GET, "/readyz")
        #expect(try await gateway.eventually { try await gateway.admin(.GET, "/readyz").status == 503 }, "\(ready.body)")
    }

    @Test func aBreakerOpensBetweenRoundsAndShowsInTheAPI() async throws {
        let a = try await FakeNode.start(name: "a")
        let b = try await FakeNode.start(name: "b")
        var config = GatewayHarness.config([a.node, b.node], interval: .seconds(1))
        config.networks[0].request.breaker.failureThreshold = 1
        config.networks[0].request.breaker.cooldown = .seconds(60)
        let gateway = try await GatewayHarness.start(config)
        defer { Task { await gateway.stop() } }
        try await gateway.eventually { try await gateway.allInRotation("a", "b") }
        #expect(try await gateway.upstream("a")["breaker"] as? String == "closed")
        // b is slower, so a (lower recent latency) is tried first.
        b.update { $0.delay = .milliseconds(20) }
        for _ in 0..<6 { _ = try await gateway.call("eth_getBalance") }
        a.update { $0.mode = .http500 }
        for _ in 0..<10 {
            let reply = try await gateway.call("eth_getBalance")
            #expect(reply.status == 200, "answered by b")
        }
        #expect(try await gateway.upstream("a")["breaker"] as? String == "open")
        let before = a.clientCalls
        for _ in 0..<10 { _ = try await gateway.call("eth_getBalance") }
        #expect(a.clientCalls == before, "nothing sent through an open breaker")
        // Health rounds take it out and, once it recovers, readmit it with a closed breaker.
        #expect(try await gateway.eventually { try await gateway.state("a") == "unreachable" })
        a.update { $0.mode = .normal }
        #expect(try await gateway.eventually(within: .seconds(6)) { try await gateway.inRotation("a") })
        #expect(try await gateway.upstream("a")["breaker"] as? String == "closed")
    }
}
