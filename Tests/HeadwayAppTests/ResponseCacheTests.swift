import Foundation
import HeadwayCore
import HeadwayTesting
import Testing

/// The response cache over real HTTP: what it keeps, what it never keeps, and identical requests
/// in flight at once.
@Suite(.serialized) struct ResponseCacheTests {
    func gateway(_ configure: (inout NetworkConfig) -> Void = { _ in }) async throws -> (GatewayHarness, FakeNode) {
        let node = try await FakeNode.start(name: "a", head: 100)
        var config = GatewayHarness.config([node.node])
        configure(&config.networks[0])
        let gateway = try await GatewayHarness.start(config)
        try await gateway.eventually { try await gateway.inRotation("a") }
        return (gateway, node)
    }

    @Test func aFinalBlockIsServedFromTheCacheWithItsOwnID() async throws {
        let (gateway, node) = try await gateway()
        defer { Task { await gateway.stop() } }
        let first = try await gateway.call("eth_getBlockByNumber", params: #"["0x10",false]"#, id: "1")
        #expect(first.headers["X-Headway-Cache"].first == "miss")
        let second = try await gateway.call("eth_getBlockByNumber", params: #"["0x10",false]"#, id: #""two""#)
        #expect(second.headers["X-Headway-Cache"].first == "hit")
        #expect(second.headers["X-Headway-Upstream"].first == nil, "no upstream answered it now")
        #expect(second.body.contains(#""id":"two""#) && second.body.contains(#""number":"0x10""#))
        #expect(node.calls("eth_getBlockByNumber") == 1)
    }

    @Test func nothingNearTheHeadOrByTagIsKept() async throws {
        let (gateway, node) = try await gateway()
        defer { Task { await gateway.stop() } }
        for params in [#"["0x50",false]"#, #"["latest",false]"#, #"["0x1000",false]"#] {
            for _ in 0..<2 {
                let reply = try await gateway.call("eth_getBlockByNumber", params: params)
                #expect(reply.headers["X-Headway-Cache"].first == nil, "\(params)")
            }
        }
        #expect(node.calls("eth_getBlockByNumber") == 6)
        let balance = try await gateway.call("eth_getBalance", params: #"["0xabc","0x10"]"#)
        #expect(balance.headers["X-Headway-Cache"].first == nil)
    }

    @Test func aDisabledCacheKeepsNothing() async throws {
        let (gateway, node) = try await gateway { $0.cache.enabled = false }
        defer { Task { await gateway.stop() } }
        for _ in 0..<2 { _ = try await gateway.call("eth_getBlockByNumber", params: #"["0x10",false]"#) }
        #expect(node.calls("eth_getBlockByNumber") == 2)
    }

    @Test func identicalRequestsInFlightGoUpstreamOnce() async throws {
        let (gateway, node) = try await gateway()
        defer { Task { await gateway.stop() } }
        node.update { $0.delay = .milliseconds(300) }
        let replies = try await withThrowingTaskGroup(of: GatewayHarness.Reply.self) { group in
            for index in 0..<8 {
                group.addTask { try await gateway.call("eth_getBlockByNumber", params: #"["0x11",false]"#, id: "\(index)") }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(replies.allSatisfy { $0.status == 200 && $0.body.contains(#""number":"0x11""#) })
        #expect(replies.filter { $0.headers["X-Headway-Cache"].first == "miss" }.count == 1)
        #expect(node.calls("eth_getBlockByNumber") == 1)
    }
}
