import HeadwayTesting
import Testing

@testable import HeadwayCore

/// The full ranking of a small tier (``NetworkRouter/rank(_:needed:now:into:)``): those having the
/// block by suspicion, outstanding requests and latency; then those lacking it, highest head
/// first; then those whose breaker refuses, in the table's order.
@Suite struct CandidateRankingTests {
    func handle(_ name: String, head: UInt64, outstanding: Int = 0, latency: Int = 1000, suspect: Bool = false, refusing: Bool = false)
        -> UpstreamHandle
    {
        let handle = UpstreamHandle(
            definition: UpstreamDefinition(name: name, network: "main", url: "http://\(name)"), transport: ScriptedTransport.node(name))
        handle.setHead(head)
        handle.outstandingCount.store(outstanding, ordering: .relaxed)
        handle.latencyMicros.store(latency, ordering: .relaxed)
        if suspect { handle.failedRecently.store(true, ordering: .relaxed) }
        if refusing { handle.breaker.withLock { $0.open(at: .now) } }
        return handle
    }

    @Test func everyGroupInItsPlace() {
        let handles = [
            handle("refusing-1", head: 200, refusing: true),
            handle("lacking-90", head: 90),
            handle("busy", head: 100, outstanding: 3),
            handle("suspect", head: 120, suspect: true),
            handle("refusing-2", head: 200, refusing: true),
            handle("slow", head: 100, latency: 9000),
            handle("lacking-95", head: 95),
            handle("best", head: 100, latency: 500),
        ]
        var order: [UpstreamHandle] = []
        NetworkRouter.rank(handles, needed: 100, now: .now, into: &order)
        #expect(order.map(\.name) == ["best", "slow", "busy", "suspect", "lacking-95", "lacking-90", "refusing-1", "refusing-2"])
    }

    @Test func rankingAppendsToWhatIsThere() {
        var order = [handle("before", head: 0)]
        NetworkRouter.rank([handle("only", head: 0)], needed: 0, now: .now, into: &order)
        NetworkRouter.rank([handle("b", head: 5, outstanding: 1), handle("a", head: 5)], needed: 0, now: .now, into: &order)
        #expect(order.map(\.name) == ["before", "only", "a", "b"])
    }
}
