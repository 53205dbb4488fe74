import Foundation
import HeadwayCore
import HeadwayTesting
import JSONRPC
import NIOCore
import Testing

@Suite struct NetworkRouterTests {
    func network(_ upstreams: [(String, UpstreamRole, ScriptedTransport)], hedge: Bool = true) async -> NetworkRouter {
        await RouterFixture.network(upstreams) { $0.request.hedge.enabled = hedge }
    }

    func request(_ method: String, id: String = "1") -> JSONRPCRequest {
        RouterFixture.request(method, id: Int(id) ?? 1)
    }

    func answeredBy(_ outcome: ForwardOutcome) -> String? { RouterFixture.answeredBy(outcome) }

    @Test func fallbacksServeOnlyWhenNoPrimaryIsHealthy() async {
        let primary = ScriptedTransport.node("p")
        let fallback = ScriptedTransport.node("f")
        let router = await network([("p", .primary, primary), ("f", .fallback, fallback)])
        #expect(answeredBy(await router.forward(request("eth_getBalance"))) == "p")

        primary.set { _, _ throws(UpstreamFailure) in throw UpstreamFailure(.connect, "refused") }
        await HealthMonitor(router: router, clock: ContinuousClock()).runRound()
        #expect(router.routingTable.fallbackActive)
        #expect(answeredBy(await router.forward(request("eth_getBalance"))) == "f")

        primary.set(ScriptedTransport.healthy("p"))
        await HealthMonitor(router: router, clock: ContinuousClock()).runRound()
        await HealthMonitor(router: router, clock: ContinuousClock()).runRound()
        #expect(answeredBy(await router.forward(request("eth_getBalance"))) == "p")
    }

    @Test func aFallbackOfUnknownHealthIsTheLastResort() async {
        let fallback = ScriptedTransport.node("f")
        var config = NetworkConfig(name: "main", chainID: 1)
        config.request.attemptTimeout = .milliseconds(300)
        let router = NetworkRouter(config: config)
        router.add(UpstreamDefinition(name: "f", network: "main", role: .fallback, url: "http://f"), transport: fallback)
        #expect(answeredBy(await router.forward(request("eth_getBalance"))) == "f")
    }

    @Test func aFailureBeforeAnyResponseGoesToTheNextCandidate() async {
        let a = ScriptedTransport.node("a")
        let b = ScriptedTransport.node("b")
        let router = await network([("a", .primary, a), ("b", .primary, b)])
        for failure in [
            UpstreamFailure(.connect, "refused"), UpstreamFailure(.connectionClosed, "reset"), UpstreamFailure(.httpStatus(502), "502"),
            UpstreamFailure(.timeout, "slow"),
        ] {
            let failing: ScriptedTransport.Script = { _, _ throws(UpstreamFailure) in throw failure }
            a.set(failing)
            b.set(ScriptedTransport.healthy("b"))
            // Whichever is tried first, the answer comes from b.
            let outcome = await router.forward(request("eth_getBalance"))
            #expect(answeredBy(outcome) == "b", "after \(failure)")
        }
        a.set { _, _ in "not json at all" }
        #expect(answeredBy(await router.forward(request("eth_getBalance"))) == "b")
    }

    @Test func nonIdempotentMethodsAreNotSentTwiceOnceTheyMayHaveArrived() async {
        let a = ScriptedTransport.node("a")
        let b = ScriptedTransport.node("b")
        let router = await network([("a", .primary, a), ("b", .primary, b)])
        let timeout: ScriptedTransport.Script = { _, _ throws(UpstreamFailure) in throw UpstreamFailure(.timeout, "slow") }
        a.set(timeout)
        b.set(timeout)
        let outcome = await router.forward(request("eth_sendTransaction"))
        guard case .unavailable(let reason, let attempts) = outcome else {
            Issue.record("answered")
            return
        }
        #expect(attempts == 1)
        #expect(reason.contains("not sent again"))
        // A refused connection never reached a node: trying the next one is safe.
        let refused: ScriptedTransport.Script = { _, _ throws(UpstreamFailure) in throw UpstreamFailure(.connect, "refused") }
        a.set(refused)
        b.set(refused)
        guard case .unavailable(_, let attempts2) = await router.forward(request("eth_sendTransaction")) else {
            Issue.record("answered")
            return
        }
        // Both were tried, so the first is tried again, up to max_attempts (3).
        #expect(attempts2 == 3)
    }

    @Test func noHealthyUpstreamIsAClearReason() async {
        let a = ScriptedTransport.node("a", head: 10)
        let b = ScriptedTransport.node("b", head: 100)
        let router = await network([("a", .primary, a), ("b", .primary, b)])
        b.set { _, _ throws(UpstreamFailure) in throw UpstreamFailure(.connect, "refused") }
        // a lags (network head 100 from the round before) and b is down.
        let outcome = await router.forward(request("eth_getBalance"))
        if case .answered = outcome { Issue.record("answered by a lagging upstream") }
        guard case .unavailable(let reason, _) = outcome else { return }
        #expect(reason.contains("main"))
    }

    @Test func leastOutstandingThenLowestLatencyGoesFirst() async {
        let slow = ScriptedTransport { method, body throws(UpstreamFailure) in
            if method == "eth_getBalance" { try? await Task.sleep(for: .milliseconds(200)) }
            return try await ScriptedTransport.healthy("slow")(method, body)
        }
        let fast = ScriptedTransport.node("fast")
        let router = await network([("slow", .primary, slow), ("fast", .primary, fast)], hedge: false)
        // While one request is outstanding on an upstream, the next goes to the other.
        async let first = router.forward(request("eth_getBalance"))
        // Waited for, not guessed: on a loaded machine the first may start late.
        let clock = ContinuousClock()
        let started = clock.now.advanced(by: .seconds(5))
        while router.candidates(for: .none).allSatisfy({ $0.outstanding == 0 }), clock.now < started {
            try? await Task.sleep(for: .milliseconds(5))
        }
        let second = await router.forward(request("eth_getBalance"))
        let firstUpstream = answeredBy(await first)
        #expect(firstUpstream != answeredBy(second))
    }
}

@Suite struct SuspicionTests {
    @Test func anUpstreamThatJustFailedIsTriedLastUntilTheNextRound() async {
        let a = ScriptedTransport.node("a")
        let b = ScriptedTransport.node("b")
        var config = NetworkConfig(name: "main", chainID: 1)
        config.request.attemptTimeout = .milliseconds(300)
        let router = NetworkRouter(config: config)
        router.add(UpstreamDefinition(name: "a", network: "main", url: "http://a"), transport: a)
        router.add(UpstreamDefinition(name: "b", network: "main", url: "http://b"), transport: b)
        let monitor = HealthMonitor(router: router, clock: ContinuousClock())
        await monitor.runRound()
        let first = router.candidates(for: .none)[0]
        let (failing, other) = first.name == "a" ? (a, b) : (b, a)
        failing.set { _, _ throws(UpstreamFailure) in throw UpstreamFailure(.connect, "refused") }
        let body = JSONRPCRequest(id: 1, method: "eth_getBalance")
        _ = await router.forward(body)
        let before = failing.methods.count
        for _ in 0..<5 { _ = await router.forward(body) }
        #expect(failing.methods.count == before, "not tried first again")
        #expect(other.methods.filter { $0 == "eth_getBalance" }.count == 6)
        failing.set(ScriptedTransport.healthy(first.name))
        await monitor.runRound()
        #expect(!first.isSuspect)
    }
}
