import Foundation
import HeadwayCore
import HeadwayTesting
import Testing

/// The malformed requests of PRODUCT.md's table, over real HTTP, and the gateway keeps serving.
@Suite(.serialized) struct EndpointTests {
    @Test func malformedRequestsGetExactlyTheirErrors() async throws {
        let a = try await FakeNode.start(name: "a")
        var config = GatewayHarness.config([a.node])
        config.server.maxBodyBytes = 1000
        config.server.maxBatch = 3
        let gateway = try await GatewayHarness.start(config)
        defer { Task { await gateway.stop() } }
        try await gateway.eventually { try await gateway.inRotation("a") }

        let item = #"{"jsonrpc":"2.0","id":1,"method":"eth_chainId"}"#
        let cases: [(String, Int, Int?)] = [
            ("this is not json", 200, -32700),
            ("[]", 200, -32600),
            (#"{"jsonrpc":"2.0","id":1,"params":[]}"#, 200, -32600),
            (#"{"jsonrpc":"2.0","id":1,"method":"admin_addPeer","params":[]}"#, 200, -32004),
            (#"{"jsonrpc":"2.0","id":1,"method":"personal_unlockAccount","params":[]}"#, 200, -32004),
            ("[\(item),\(item),\(item),\(item)]", 200, -32005),
            (#"{"jsonrpc":"2.0","id":1,"method":"eth_call","params":["\#(String(repeating: "a", count: 2000))"]}"#, 413, -32005),
            (#"{"jsonrpc":"2.0","id":1,"method":"eth_nope","params":[]}"#, 200, -32601),
        ]
        for (body, status, code) in cases {
            let reply = try await gateway.post(gateway.rpc, body)
            #expect(reply.status == status, "\(body.prefix(60)) -> \(reply.status) \(reply.body)")
            let error = (reply.json as? [String: Any])?["error"] as? [String: Any]
            #expect(error?["code"] as? Int == code, "\(body.prefix(60)) -> \(reply.body)")
            #expect((error?["message"] as? String)?.isEmpty == false)
        }
        let parse = try await gateway.post(gateway.rpc, "{oops")
        #expect((parse.json as? [String: Any])?.keys.contains("id") == true)
        #expect(parse.body.contains(#""id":null"#))

        let ok = try await gateway.call("eth_chainId", id: "\"still-here\"")
        #expect(ok.status == 200)
        #expect(ok.body.contains(#""id":"still-here""#))
        #expect(ok.headers.first(name: "x-headway-upstream") == "a")
    }

    @Test func networksAreReachedByPath() async throws {
        let a = try await FakeNode.start(name: "a")
        let gateway = try await GatewayHarness.start(GatewayHarness.config([a.node]))
        defer { Task { await gateway.stop() } }
        try await gateway.eventually { try await gateway.inRotation("a") }
        let byName = try await gateway.post(gateway.rpc + "/dev", #"{"jsonrpc":"2.0","id":1,"method":"eth_chainId"}"#)
        #expect(byName.body.contains(#""result":"0x1""#))
        let unknown = try await gateway.post(gateway.rpc + "/mars", #"{"jsonrpc":"2.0","id":1,"method":"eth_chainId"}"#)
        #expect(unknown.status == 404)
        #expect(unknown.body.contains("unknown network"))
    }

    @Test func gracefulShutdownFinishesInFlightRequests() async throws {
        let a = try await FakeNode.start(name: "a")
        let gateway = try await GatewayHarness.start(GatewayHarness.config([a.node]))
        try await gateway.eventually { try await gateway.inRotation("a") }
        a.update { $0.delay = .milliseconds(300) }
        async let slow = gateway.call("eth_getBalance")
        try await Task.sleep(for: .milliseconds(100))
        await gateway.application.stop()
        let reply = try await slow
        #expect(reply.status == 200)
        #expect(reply.body.contains("result"))
        try await gateway.task.value
    }
}
