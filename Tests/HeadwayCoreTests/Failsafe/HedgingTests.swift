import HeadwayCore
import HeadwayTesting
import JSONRPC
import Synchronization
import Testing

@Suite struct HedgingTests {
    /// An upstream whose `eth_getBalance` takes `delay`, and that counts the ones cancelled.
    final class Slow: Sendable {
        final class Counter: Sendable {
            let value = Atomic<Int>(0)
        }
        let counter = Counter()
        let transport: ScriptedTransport
        var cancelled: Int { counter.value.load(ordering: .relaxed) }

        init(_ name: String, delay: Duration) {
            let counter = self.counter
            transport = ScriptedTransport { method, body throws(UpstreamFailure) in
                if method == "eth_getBalance" {
                    do {
                        try await Task.sleep(for: delay)
                    } catch {
                        counter.value.add(1, ordering: .relaxed)
                        throw UpstreamFailure(.timeout, "cancelled")
                    }
                }
                return try await ScriptedTransport.healthy(name)(method, body)
            }
        }
    }

    func network(_ slow: Slow, _ fast: ScriptedTransport, hedge: Bool = true) async -> NetworkRouter {
        await RouterFixture.network([("slow", .primary, slow.transport), ("fast", .primary, fast)]) {
            $0.request.attemptTimeout = .seconds(5)
            $0.request.hedge.enabled = hedge
            $0.request.hedge.minDelay = .milliseconds(50)
            $0.request.hedge.maxDelay = .milliseconds(100)
        }
    }

    @Test func aSlowReadIsHedgedAndTheLoserCancelled() async {
        let slow = Slow("slow", delay: .seconds(3))
        let router = await network(slow, ScriptedTransport.node("fast"))
        // The slow one goes first (registration order, nothing known yet).
        #expect(router.candidates(for: .none)[0].name == "slow")
        let clock = ContinuousClock()
        let started = clock.now
        let outcome = await router.forward(RouterFixture.request("eth_getBalance"))
        #expect(RouterFixture.answeredBy(outcome) == "fast")
        #expect(started.duration(to: clock.now) < .seconds(1), "answered by the hedge, not after the slow one")
        guard case .answered(_, _, let attempts) = outcome else { return }
        #expect(attempts == 2)
        #expect(slow.cancelled == 1, "the loser was cancelled")
    }

    @Test func writesAndUnknownMethodsAreNeverHedged() async {
        let slow = Slow("slow", delay: .milliseconds(300))
        let fast = ScriptedTransport.node("fast")
        let router = await network(slow, fast)
        let sendSlowly: ScriptedTransport.Script = { method, body throws(UpstreamFailure) in
            try? await Task.sleep(for: .milliseconds(300))
            return try await ScriptedTransport.healthy("slow")(method, body)
        }
        slow.transport.set(sendSlowly)
        fast.set(sendSlowly)
        for method in ["eth_sendRawTransaction", "eth_sendTransaction", "zks_estimateFee"] {
            _ = await router.forward(RouterFixture.request(method, #"["0x00"]"#))
            let sent = (slow.transport.methods + fast.methods).filter { $0 == method }.count
            #expect(sent == 1, "\(method) went to \(sent) upstreams")
        }
    }

    @Test func hedgingCanBeTurnedOff() async {
        let slow = Slow("slow", delay: .milliseconds(300))
        let router = await network(slow, ScriptedTransport.node("fast"), hedge: false)
        #expect(RouterFixture.answeredBy(await router.forward(RouterFixture.request("eth_getBalance"))) == "slow")
    }
}
