import HeadwayCore
import HeadwayTesting
import JSONRPC
import NIOCore
import NIOPosix
import Testing

/// `forwardOnLoop`: a read started on an event loop keeps `forward`'s retries, hedging and
/// deadline when its first attempt does not answer.
@Suite struct LoopForwardTests {
    let loop = MultiThreadedEventLoopGroup.singleton.next()

    func forward(_ router: NetworkRouter, _ request: JSONRPCRequest) async throws -> ForwardOutcome? {
        let requirement = BlockRequirement.of(method: request.method, params: request.params)
        let started = try await loop.submit { router.forwardOnLoop(request, requirement: requirement, on: loop, hedgeTimer: SequentialTimer(on: loop)) }.get()
        return try await started?.get()
    }

    func attempts(_ outcome: ForwardOutcome?) -> Int? {
        if case .answered(_, _, let attempts) = outcome { return attempts }
        return nil
    }

    @Test func aReadIsAnsweredByTheFirstCandidate() async throws {
        let a = ScriptedTransport.node("a")
        let b = ScriptedTransport.node("b")
        // No hedge: on a loaded machine the scripted answer can take longer than its delay.
        let router = await RouterFixture.network([("a", .primary, a), ("b", .primary, b)]) { $0.request.hedge.enabled = false }
        let first = router.candidates(for: .none)[0].name
        let outcome = try await forward(router, RouterFixture.request("eth_getBalance", id: 9))
        #expect(RouterFixture.answeredBy(outcome!) == first)
        #expect(attempts(outcome) == 1)
        #expect(a.methods.filter { $0 == "eth_getBalance" }.count + b.methods.filter { $0 == "eth_getBalance" }.count == 1)
    }

    @Test(arguments: ["drop", "header not found", "null block"])
    func aFirstAttemptThatDoesNotAnswerIsRetriedOnAnother(failure: String) async throws {
        let a = ScriptedTransport.node("a")
        let b = ScriptedTransport.node("b")
        let router = await RouterFixture.network([("a", .primary, a), ("b", .primary, b)]) { $0.request.hedge.enabled = false }
        let first = router.candidates(for: .number(5))[0].name
        let failing = first == "a" ? a : b
        failing.set { method, body throws(UpstreamFailure) in
            guard method == "eth_getBlockByNumber" else { return try await ScriptedTransport.healthy("x")(method, body) }
            let id = ScriptedTransport.id(in: body)
            switch failure {
            case "drop": throw UpstreamFailure(.connectionClosed, "reset")
            case "header not found": return #"{"jsonrpc":"2.0","id":\#(id),"error":{"code":-32000,"message":"header not found"}}"#
            default: return #"{"jsonrpc":"2.0","id":\#(id),"result":null}"#
            }
        }
        let outcome = try await forward(router, RouterFixture.request("eth_getBlockByNumber", #"["0x5",false]"#))
        #expect(RouterFixture.answeredBy(outcome!) == (first == "a" ? "b" : "a"))
        #expect(attempts(outcome) == 2)
        #expect(RouterFixture.body(outcome!)?.contains("null") == false)
    }

    @Test func aSlowFirstAttemptIsHedged() async throws {
        let slow = ScriptedTransport { method, body throws(UpstreamFailure) in
            if method == "eth_getBalance" { try? await Task.sleep(for: .seconds(2)) }
            return try await ScriptedTransport.healthy("slow")(method, body)
        }
        let router = await RouterFixture.network([("slow", .primary, slow), ("fast", .primary, ScriptedTransport.node("fast"))]) {
            $0.request.attemptTimeout = .seconds(5)
            $0.request.hedge.minDelay = .milliseconds(50)
            $0.request.hedge.maxDelay = .milliseconds(100)
        }
        #expect(router.candidates(for: .none)[0].name == "slow")
        let clock = ContinuousClock()
        let started = clock.now
        let outcome = try await forward(router, RouterFixture.request("eth_getBalance"))
        #expect(RouterFixture.answeredBy(outcome!) == "fast")
        #expect(attempts(outcome) == 2)
        #expect(started.duration(to: clock.now) < .seconds(1), "answered by the hedge, not after the slow one")
    }

    @Test func theDeadlineCountsFromTheFirstAttempt() async throws {
        let hanging: ScriptedTransport.Script = { method, body throws(UpstreamFailure) in
            if method == "eth_getBalance" { try? await Task.sleep(for: .seconds(5)) }
            return try await ScriptedTransport.healthy("h")(method, body)
        }
        let router = await RouterFixture.network([("a", .primary, ScriptedTransport(hanging)), ("b", .primary, ScriptedTransport(hanging))]) {
            $0.request.attemptTimeout = .seconds(5)
            $0.request.deadline = .milliseconds(400)
            $0.request.hedge.minDelay = .milliseconds(50)
            $0.request.hedge.maxDelay = .milliseconds(100)
        }
        let clock = ContinuousClock()
        let started = clock.now
        let outcome = try await forward(router, RouterFixture.request("eth_getBalance"))
        guard case .unavailable(let reason, _) = outcome else {
            Issue.record("expected unavailable, got \(String(describing: outcome))")
            return
        }
        #expect(reason.contains("deadline"))
        // The nodes hang for 5 s: well under that means the 400 ms deadline ended it (a loaded CI
        // machine took 1.01 s once; the bound was 1 s).
        #expect(started.duration(to: clock.now) < .seconds(3))
    }

    @Test(arguments: ["eth_sendRawTransaction", "eth_newFilter", "eth_getFilterChanges", "eth_sendTransaction"])
    func onlyReadsTakeTheLoopPath(method: String) async throws {
        let router = await RouterFixture.network([("a", .primary, ScriptedTransport.node("a"))])
        #expect(try await forward(router, RouterFixture.request(method, #"["0x00"]"#)) == nil)
    }

    @Test func ethBlockNumberNeverGoesBackOnTheLoopPathEither() async throws {
        let a = ScriptedTransport.node("a", head: 100)
        let router = await RouterFixture.network([("a", .primary, a)])
        _ = await router.forward(RouterFixture.request("eth_blockNumber"))
        a.set(ScriptedTransport.healthy("a", head: 98))
        let outcome = try await forward(router, RouterFixture.request("eth_blockNumber"))
        #expect(RouterFixture.body(outcome!)?.contains(#""result":"0x64""#) == true)
    }
}
