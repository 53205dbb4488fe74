import HeadwayCore
import HeadwayTesting
import Testing

/// Networks with many upstreams: candidates are sampled, not ranked in full, and still favour the
/// upstreams that have the block.
@Suite struct LargeTierTests {
    /// `count` primaries at head 100, except those listed in `heads`.
    func network(_ count: Int, heads: [Int: UInt64] = [:]) async -> NetworkRouter {
        let upstreams = (0..<count).map { index in
            ("n\(index)", UpstreamRole.primary, ScriptedTransport.node("n\(index)", head: heads[index] ?? 100))
        }
        return await RouterFixture.network(upstreams) { $0.health.maxLag = 1000 }
    }

    @Test func aRequestGetsMaxAttemptsDistinctCandidatesAndLoadSpreads() async {
        let router = await network(100)
        var firsts = Set<String>()
        for _ in 0..<3000 {
            let candidates = router.candidates(for: .none)
            #expect(candidates.count == 3)
            #expect(Set(candidates.map(\.name)).count == 3)
            firsts.insert(candidates[0].name)
        }
        #expect(firsts.count >= 90)
    }

    @Test func upstreamsThatHaveTheBlockComeFirst() async {
        let ahead = Dictionary(uniqueKeysWithValues: (0..<10).map { ($0 * 7, UInt64(200)) })
        let router = await network(100, heads: ahead)
        let aheadNames = Set(ahead.keys.map { "n\($0)" })
        for _ in 0..<500 {
            let candidates = router.candidates(for: .number(150))
            #expect(candidates.count == 3)
            #expect(candidates.allSatisfy { aheadNames.contains($0.name) })
        }
    }

    @Test func whenTooFewHaveTheBlockTheRestFollow() async {
        let router = await network(50, heads: [17: 200])
        for _ in 0..<200 {
            let candidates = router.candidates(for: .number(150)).map(\.name)
            #expect(candidates.count == 3)
            #expect(candidates.first == "n17")
            #expect(Set(candidates).count == 3)
        }
    }

    @Test func aRequestIsAnsweredInANetworkOfAThousand() async {
        let router = await network(1000)
        #expect(router.routingTable.primaries.count == 1000)
        let outcome = await router.forward(RouterFixture.request("web3_clientVersion"))
        #expect(RouterFixture.answeredBy(outcome)?.hasPrefix("n") == true)
    }
}
