import HeadwayCore
import HeadwayTesting
import JSONRPC
import Testing

/// What is retried where, by method class (see `MethodClass` and `RetryableErrors`).
@Suite struct RetryPolicyTests {
    let a = ScriptedTransport.node("a")
    let b = ScriptedTransport.node("b")

    func network(_ configure: (inout NetworkConfig) -> Void = { _ in }) async -> NetworkRouter {
        await RouterFixture.network([("a", .primary, a), ("b", .primary, b)]) {
            $0.request.hedge.enabled = false
            configure(&$0)
        }
    }

    /// Makes `first` the upstream tried first (both are alike: the router picks by order).
    func firstAndOther(_ router: NetworkRouter) -> (ScriptedTransport, ScriptedTransport, String) {
        let first = router.candidates(for: .none)[0].name
        return first == "a" ? (a, b, "b") : (b, a, "a")
    }

    @Test func aNodeSideErrorOnAReadIsRetriedElsewhere() async {
        let router = await network()
        let (first, _, other) = firstAndOther(router)
        first.set(RouterFixture.answering("eth_getBalance", with: #""error":{"code":-32000,"message":"header not found"}"#, name: "x"))
        let outcome = await router.forward(RouterFixture.request("eth_getBalance", #"["0x00", "latest"]"#))
        #expect(RouterFixture.answeredBy(outcome) == other)
        guard case .answered(_, _, let attempts) = outcome else { return }
        #expect(attempts == 2)
    }

    @Test func aRecoveringNodeAnswersWhatEveryNodeInRotationFailed() async {
        let router = await network()
        // b misses a round, then answers one: healthy again, but short of recover_after (2).
        b.set { _, _ throws(UpstreamFailure) in throw UpstreamFailure(.connect, "refused") }
        let monitor = HealthMonitor(router: router, clock: ContinuousClock())
        await monitor.runRound()
        b.set(ScriptedTransport.healthy("b"))
        await monitor.runRound()
        #expect(router.routingTable.primaries.map(\.name) == ["a"])
        #expect(router.routingTable.recovering.map(\.name) == ["b"])
        // Its own traffic still waits for recover_after...
        #expect(RouterFixture.answeredBy(await router.forward(RouterFixture.request("web3_clientVersion"))) == "a")
        // ...but a request that a fails goes there rather than failing.
        a.set { method, body throws(UpstreamFailure) in
            if method == "eth_getBalance" { throw UpstreamFailure(.httpStatus(500), "a answered HTTP 500") }
            return try await ScriptedTransport.healthy("a")(method, body)
        }
        let outcome = await router.forward(RouterFixture.request("eth_getBalance", #"["0x00", "latest"]"#))
        #expect(RouterFixture.answeredBy(outcome) == "b")
    }

    @Test func revertsAndInvalidParamsAreAnswers() async {
        let router = await network()
        let (first, second, _) = firstAndOther(router)
        first.set(RouterFixture.answering("eth_call", with: #""error":{"code":3,"message":"execution reverted","data":"0x"}"#, name: "x"))
        let outcome = await router.forward(RouterFixture.request("eth_call", #"[{"to":"0x00"}, "latest"]"#))
        #expect(RouterFixture.body(outcome)?.contains("execution reverted") == true)
        #expect(!second.methods.contains("eth_call"))
    }

    @Test func whenEveryNodeLacksTheAnswerTheLastNodeAnswerIsPassedOn() async {
        let router = await network()
        let missing = #""error":{"code":-32000,"message":"missing trie node"}"#
        a.set(RouterFixture.answering("eth_getBalance", with: missing, name: "a"))
        b.set(RouterFixture.answering("eth_getBalance", with: missing, name: "b"))
        let outcome = await router.forward(RouterFixture.request("eth_getBalance", #"["0x00", "0x1"]"#))
        #expect(RouterFixture.body(outcome)?.contains("missing trie node") == true)
        guard case .answered(_, _, let attempts) = outcome else { return }
        #expect(attempts == 3, "max_attempts")
    }

    @Test func unknownMethodsPassThroughWithoutRetryingTheirErrors() async {
        let router = await network()
        let (first, second, _) = firstAndOther(router)
        first.set(RouterFixture.answering("zks_getBridgeContracts", with: #""error":{"code":-32000,"message":"header not found"}"#, name: "x"))
        let outcome = await router.forward(RouterFixture.request("zks_getBridgeContracts"))
        #expect(RouterFixture.body(outcome)?.contains("header not found") == true)
        #expect(!second.methods.contains("zks_getBridgeContracts"))
    }

    @Test func transportFailuresAreRetriedForUnknownMethodsToo() async {
        let router = await network()
        let (first, _, other) = firstAndOther(router)
        first.set { _, _ throws(UpstreamFailure) in throw UpstreamFailure(.httpStatus(502), "bad gateway") }
        #expect(RouterFixture.answeredBy(await router.forward(RouterFixture.request("zks_getBridgeContracts"))) == other)
    }

    @Test func maxAttemptsBoundsTheTries() async {
        let router = await network { $0.request.maxAttempts = 1 }
        let (first, second, _) = firstAndOther(router)
        first.set { _, _ throws(UpstreamFailure) in throw UpstreamFailure(.connect, "refused") }
        guard case .unavailable(let reason, let attempts) = await router.forward(RouterFixture.request("eth_getBalance")) else {
            Issue.record("answered")
            return
        }
        #expect(attempts == 1)
        #expect(reason.contains("refused"))
        #expect(!second.methods.contains("eth_getBalance"))
    }

    @Test func theDeadlineBoundsTheWholeRequest() async {
        let router = await network {
            $0.request.deadline = .milliseconds(250)
            $0.request.attemptTimeout = .seconds(5)
        }
        let hang: ScriptedTransport.Script = { method, body throws(UpstreamFailure) in
            if method == "eth_getBalance" {
                try? await Task.sleep(for: .seconds(10))
                throw UpstreamFailure(.timeout, "cancelled")
            }
            return try await ScriptedTransport.healthy("x")(method, body)
        }
        a.set(hang)
        b.set(hang)
        let clock = ContinuousClock()
        let started = clock.now
        let outcome = await router.forward(RouterFixture.request("eth_getBalance"))
        #expect(started.duration(to: clock.now) < .seconds(2))
        guard case .unavailable = outcome else {
            Issue.record("answered")
            return
        }
    }

    @Test func anOpenBreakerSendsTrafficElsewhereBetweenRounds() async {
        let router = await network {
            $0.request.breaker.failureThreshold = 1
            $0.request.breaker.cooldown = .seconds(60)
        }
        let (first, _, other) = firstAndOther(router)
        first.set { method, body throws(UpstreamFailure) in
            guard method != "eth_getBalance" else { throw UpstreamFailure(.httpStatus(500), "HTTP 500") }
            return try await ScriptedTransport.healthy("x")(method, body)
        }
        _ = await router.forward(RouterFixture.request("eth_getBalance"))
        // A health round clears the suspicion a failure leaves (the upstream would be tried last
        // anyway): the breaker alone keeps it out.
        await HealthMonitor(router: router, clock: ContinuousClock()).runRound()
        #expect(router.statuses().first { $0.definition.name != other }?.breaker == .open)
        let before = first.methods.count
        for _ in 0..<5 { #expect(RouterFixture.answeredBy(await router.forward(RouterFixture.request("eth_getBalance"))) == other) }
        #expect(first.methods.count == before, "no request reached the upstream with an open breaker")
    }

    @Test func everyBreakerOpenStillTriesRatherThanRefusing() async {
        let router = await network {
            $0.request.breaker.failureThreshold = 1
            $0.request.breaker.cooldown = .seconds(60)
        }
        let refused: ScriptedTransport.Script = { _, _ throws(UpstreamFailure) in throw UpstreamFailure(.connect, "refused") }
        a.set(refused)
        b.set(refused)
        _ = await router.forward(RouterFixture.request("eth_getBalance"))
        #expect(router.statuses().allSatisfy { $0.breaker == .open })
        a.set(ScriptedTransport.healthy("a"))
        #expect(RouterFixture.answeredBy(await router.forward(RouterFixture.request("eth_getBalance"))) == "a")
    }
}
