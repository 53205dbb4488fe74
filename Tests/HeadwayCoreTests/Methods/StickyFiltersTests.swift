import HeadwayCore
import HeadwayTesting
import JSONRPC
import Testing

@Suite struct StickyFiltersTests {
    /// A node holding filter `0x1f` (and no other).
    func filterNode(_ name: String) -> ScriptedTransport {
        ScriptedTransport { method, body throws(UpstreamFailure) in
            let id = ScriptedTransport.id(in: body)
            switch method {
            case "eth_newBlockFilter":
                return #"{"jsonrpc":"2.0","id":\#(id),"result":"0x1f"}"#
            case "eth_getFilterChanges", "eth_uninstallFilter":
                guard body.contains(#""params":["0x1f"]"#) else {
                    return #"{"jsonrpc":"2.0","id":\#(id),"error":{"code":-32000,"message":"filter not found"}}"#
                }
                return #"{"jsonrpc":"2.0","id":\#(id),"result":\#(method == "eth_uninstallFilter" ? "true" : #"["\#(name)"]"#)}"#
            default:
                return try await ScriptedTransport.healthy(name)(method, body)
            }
        }
    }

    func resultString(_ outcome: ForwardOutcome) -> String? {
        if case .answered(let response, _, _) = outcome { return response.resultString }
        return nil
    }

    @Test func filterCallsGoBackToTheCreatingUpstream() async {
        let a = filterNode("a")
        let b = filterNode("b")
        let router = await RouterFixture.network([("a", .primary, a), ("b", .primary, b)])
        let created = await router.forward(RouterFixture.request("eth_newBlockFilter"))
        guard let owner = RouterFixture.answeredBy(created), let id = resultString(created) else {
            Issue.record("no filter")
            return
        }
        #expect(id.hasPrefix("0x") && id.hasSuffix("1f") && id.count == 2 + 8 + 2, "the node's id behind the owner's tag: \(id)")
        for index in 0..<20 {
            let changes = await router.forward(RouterFixture.request("eth_getFilterChanges", #"["\#(id)"]"#, id: index))
            #expect(RouterFixture.answeredBy(changes) == owner)
            #expect(RouterFixture.body(changes) == #"{"jsonrpc":"2.0","id":\#(index),"result":["\#(owner)"]}"#)
            // Other reads spread as usual meanwhile.
            _ = await router.forward(RouterFixture.request("eth_getBalance"))
        }
        let uninstalled = await router.forward(RouterFixture.request("eth_uninstallFilter", #"["\#(id)"]"#))
        #expect(RouterFixture.body(uninstalled)?.contains("true") == true)
    }

    @Test func aFilterWhoseUpstreamIsGoneIsNotFound() async {
        let a = filterNode("a")
        let router = await RouterFixture.network([("a", .primary, a), ("b", .primary, filterNode("b"))])
        let created = await router.forward(RouterFixture.request("eth_newBlockFilter"))
        guard let owner = RouterFixture.answeredBy(created), let id = resultString(created) else { return }
        router.remove(owner)
        let changes = await router.forward(RouterFixture.request("eth_getFilterChanges", #"["\#(id)"]"#, id: 4))
        #expect(RouterFixture.body(changes) == #"{"jsonrpc":"2.0","id":4,"error":{"code":-32000,"message":"filter not found"}}"#)
    }

    @Test func idsHeadwayNeverMadeAreNotFound() async {
        let router = await RouterFixture.network([("a", .primary, filterNode("a"))])
        for params in [#"["0x1f"]"#, "[]", #"["0xffffffff00"]"#, "[7]"] {
            let outcome = await router.forward(RouterFixture.request("eth_getFilterChanges", params))
            #expect(RouterFixture.body(outcome)?.contains("filter not found") == true, "\(params)")
        }
    }
}
