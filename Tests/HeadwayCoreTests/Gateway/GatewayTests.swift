import Foundation
import HeadwayCore
import HeadwayTesting
import JSONRPC
import NIOCore
import Testing

@Suite struct GatewayTests {
    func gateway(maxBatch: Int = 1000, upstreams: [ScriptedTransport]? = nil) async -> (Gateway, NetworkRouter) {
        var config = NetworkConfig(name: "main", chainID: 1)
        config.request.attemptTimeout = .milliseconds(300)
        let router = NetworkRouter(config: config)
        for (index, transport) in (upstreams ?? [ScriptedTransport.node("a")]).enumerated() {
            router.add(UpstreamDefinition(name: "u\(index)", network: "main", url: "http://u\(index)"), transport: transport)
        }
        await HealthMonitor(router: router, clock: ContinuousClock()).runRound()
        var server = ServerConfig()
        server.maxBatch = maxBatch
        return (Gateway(networks: [router], server: server), router)
    }

    func send(_ text: String, to gateway: Gateway, _ router: NetworkRouter) async -> (Int, String?) {
        let reply = await gateway.handle(ByteBuffer(string: text), network: router)
        return (reply.status, reply.body.map { String(buffer: $0) })
    }

    @Test(arguments: [
        ("{not json", 200, #"{"jsonrpc":"2.0","id":null,"error":{"code":-32700"#),
        ("[]", 200, #"{"jsonrpc":"2.0","id":null,"error":{"code":-32600"#),
        (#"{"jsonrpc":"2.0","id":4}"#, 200, #"{"jsonrpc":"2.0","id":4,"error":{"code":-32600"#),
        (#"{"jsonrpc":"2.0","id":4,"method":"admin_peers"}"#, 200, #"{"jsonrpc":"2.0","id":4,"error":{"code":-32004"#),
        (#"{"jsonrpc":"2.0","id":"x","method":"debug_traceTransaction","params":[]}"#, 200, #"{"jsonrpc":"2.0","id":"x","error":{"code":-32004"#),
    ])
    func gatewayErrors(body: String, status: Int, prefix: String) async {
        let (gateway, router) = await gateway()
        let (code, reply) = await send(body, to: gateway, router)
        #expect(code == status)
        #expect(reply?.hasPrefix(prefix) == true, "\(reply ?? "nil")")
    }

    @Test func resultsAndIdsPassThrough() async {
        let (gateway, router) = await gateway()
        let (status, reply) = await send(#"{"jsonrpc":"2.0","id":"abc","method":"eth_getBalance","params":[]}"#, to: gateway, router)
        #expect(status == 200)
        #expect(reply == #"{"jsonrpc":"2.0","id":"abc","result":"a"}"#)
    }

    @Test func notificationsGetNoResponseObject() async {
        let (gateway, router) = await gateway()
        let (status, reply) = await send(#"{"jsonrpc":"2.0","method":"eth_getBalance","params":[]}"#, to: gateway, router)
        #expect(status == 204)
        #expect(reply == nil)
        let (batchStatus, batchReply) = await send(#"[{"jsonrpc":"2.0","method":"a"},{"jsonrpc":"2.0","method":"b"}]"#, to: gateway, router)
        #expect(batchStatus == 204)
        #expect(batchReply == nil)
    }

    @Test func batchesKeepOrderAndSkipNotifications() async {
        let (gateway, router) = await gateway()
        let (status, reply) = await send(
            #"[{"jsonrpc":"2.0","id":1,"method":"eth_getBalance"},{"jsonrpc":"2.0","method":"x"},5,{"jsonrpc":"2.0","id":"z","method":"miner_start"},{"jsonrpc":"2.0","id":3,"method":"eth_getCode"}]"#,
            to: gateway, router)
        #expect(status == 200)
        #expect(
            reply
                == #"[{"jsonrpc":"2.0","id":1,"result":"a"},{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"invalid request: a request must be a JSON object"}},{"jsonrpc":"2.0","id":"z","error":{"code":-32004,"message":"method not supported: miner_start"}},{"jsonrpc":"2.0","id":3,"result":"a"}]"#
        )
    }

    @Test func batchesOverTheLimitAreRefused() async {
        let (gateway, router) = await gateway(maxBatch: 2)
        let (status, reply) = await send(
            #"[{"jsonrpc":"2.0","id":1,"method":"a"},{"jsonrpc":"2.0","id":2,"method":"a"},{"jsonrpc":"2.0","id":3,"method":"a"}]"#, to: gateway, router)
        #expect(status == 200)
        #expect(reply?.contains(#""code":-32005"#) == true)
        #expect(reply?.contains("max_batch 2") == true)
    }

    @Test func nothingToServeIs503WithAReason() async {
        let down = ScriptedTransport { _, _ throws(UpstreamFailure) in throw UpstreamFailure(.connect, "refused") }
        let (gateway, router) = await gateway(upstreams: [down])
        let (status, reply) = await send(#"{"jsonrpc":"2.0","id":9,"method":"eth_getBalance"}"#, to: gateway, router)
        #expect(status == 503)
        #expect(reply?.hasPrefix(#"{"jsonrpc":"2.0","id":9,"error":{"code":-32002,"message":"resource unavailable: "#) == true)
    }

    @Test func upstreamErrorsArePassedThrough() async {
        let node = ScriptedTransport { method, body in
            #"{"jsonrpc":"2.0","id":\#(ScriptedTransport.id(in: body)),"error":{"code":-32601,"message":"method not found"}}"#
        }
        let (gateway, router) = await gateway(upstreams: [node])
        // The probes fail (error answers), so add the upstream as a last-resort fallback instead.
        router.add(UpstreamDefinition(name: "f", network: "main", role: .fallback, url: "http://f"), transport: node)
        let (status, reply) = await send(#"{"jsonrpc":"2.0","id":2,"method":"eth_nope"}"#, to: gateway, router)
        #expect(status == 200)
        #expect(reply == #"{"jsonrpc":"2.0","id":2,"error":{"code":-32601,"message":"method not found"}}"#)
    }
}
