import HeadwayCore
import HeadwayTesting
import JSONRPC
import Testing

/// A lagging node in rotation never makes the chain look as if it went back.
@Suite struct ChainConsistencyTests {
    /// `behind` is at 95, `ahead` at 100: both within max_lag (10).
    let behind = ScriptedTransport.node("behind", head: 95)
    let ahead = ScriptedTransport.node("ahead", head: 100)

    func network() async -> NetworkRouter {
        await RouterFixture.network([("behind", .primary, behind), ("ahead", .primary, ahead)]) { $0.request.hedge.enabled = false }
    }

    @Test func blockNumberNeverGoesBackwards() async {
        let router = await network()
        var newest: UInt64 = 0
        var answeredBy: Set<String> = []
        for index in 0..<50 {
            let outcome = await router.forward(RouterFixture.request("eth_blockNumber", id: index))
            guard case .answered(let response, let upstream, _) = outcome, let number = response.resultString.flatMap(Hex.uint64) else {
                Issue.record("no answer")
                return
            }
            #expect(number >= newest)
            #expect(response.id?.description == "\(index)")
            newest = number
            answeredBy.insert(upstream)
        }
        #expect(newest == 100)
        #expect(answeredBy == ["behind", "ahead"], "the lagging node answered too, raised to the head")
    }

    @Test func aBlockAboveAnUpstreamsHeadIsNotSentToIt() async {
        let router = await network()
        for _ in 0..<10 {
            let outcome = await router.forward(RouterFixture.request("eth_getBlockByNumber", #"["0x62", false]"#))
            #expect(RouterFixture.answeredBy(outcome) == "ahead")
        }
        // Tags mean the network head: only upstreams at it qualify first.
        let latest = await router.forward(RouterFixture.request("eth_getBalance", #"["0x00", "latest"]"#))
        #expect(RouterFixture.answeredBy(latest) == "ahead")
        // An old block: either will do.
        #expect(behind.methods.contains("eth_getBlockByNumber") == false)
    }

    @Test func aBlockMissingOnOneNodeIsFetchedFromAnother() async {
        let router = await network()
        // "ahead" says it is at 100 but answers null for 99 (a node that lost a block).
        ahead.set(RouterFixture.answering("eth_getBlockByNumber", with: #""result":null"#, name: "ahead"))
        let second = ScriptedTransport.node("second", head: 100)
        router.add(UpstreamDefinition(name: "second", network: "main", url: "http://second"), transport: second)
        await HealthMonitor(router: router, clock: ContinuousClock()).runRound()
        let outcome = await router.forward(RouterFixture.request("eth_getBlockByNumber", #"["0x63", false]"#))
        #expect(RouterFixture.answeredBy(outcome) == "second")
    }

    @Test func aBlockAboveEveryHeadIsNullFromAnUpstreamAtTheHead() async {
        let router = await network()
        ahead.set(RouterFixture.answering("eth_getBlockByNumber", with: #""result":null"#, name: "ahead", head: 100))
        let outcome = await router.forward(RouterFixture.request("eth_getBlockByNumber", #"["0x1000", false]"#))
        #expect(RouterFixture.answeredBy(outcome) == "ahead")
        #expect(RouterFixture.body(outcome)?.contains(#""result":null"#) == true)
    }
}
