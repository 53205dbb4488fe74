import Foundation
import HeadwayCore
import HeadwayTesting
import Testing

@Suite(.serialized) struct AdminAPITests {
    @Test func addListDisableEnableRemove() async throws {
        let a = try await FakeNode.start(name: "a")
        let b = try await FakeNode.start(name: "b")
        let gateway = try await GatewayHarness.start(GatewayHarness.config([a.node]))
        defer { Task { await gateway.stop() } }

        let added = try await gateway.admin(.POST, "/api/v1/upstreams", body: #"{"name":"b","url":"\#(b.url)","ws":"ws://127.0.0.1:1/ws"}"#)
        #expect(added.status == 201, "\(added.body)")
        let record = added.json as? [String: Any] ?? [:]
        #expect(record["name"] as? String == "b")
        #expect(record["network"] as? String == "dev")
        #expect(record["role"] as? String == "primary")
        for key in ["url", "state", "healthy", "added_at", "last_checked", "state_since", "head", "lag", "latency_ms"] {
            #expect(record.keys.contains(key) || ["last_checked", "head", "lag", "latency_ms"].contains(key), "missing \(key)")
        }
        #expect(try await gateway.eventually { try await gateway.inRotation("b") })
        let listed = try await gateway.admin(.GET, "/api/v1/upstreams")
        #expect((listed.json as? [[String: Any]])?.map { $0["name"] as? String } == ["a", "b"])
        let health = try await gateway.admin(.GET, "/api/v1/upstreams/b/health")
        #expect(health.status == 200)
        let view = try await gateway.upstream("b")
        for key in ["name", "network", "role", "url", "state", "healthy", "head", "lag", "latency_ms", "last_checked", "state_since", "added_at"] {
            #expect(view[key] != nil, "missing \(key)")
        }

        let disabled = try await gateway.admin(.POST, "/api/v1/upstreams/b/disable")
        #expect(disabled.status == 200)
        #expect(try await gateway.state("b") == "disabled")
        #expect(try await gateway.admin(.GET, "/api/v1/upstreams/b/health").status == 503)
        let before = b.clientCalls
        for _ in 0..<10 { _ = try await gateway.call("eth_getBalance") }
        #expect(b.clientCalls == before)

        #expect(try await gateway.admin(.POST, "/api/v1/upstreams/b/enable").status == 200)
        #expect(try await gateway.eventually { try await gateway.inRotation("b") })

        #expect(try await gateway.admin(.DELETE, "/api/v1/upstreams/b").status == 204)
        #expect(try await gateway.admin(.GET, "/api/v1/upstreams/b/health").status == 404)
        #expect(try await gateway.admin(.DELETE, "/api/v1/upstreams/b").status == 404)
    }

    @Test func badRequestsGetClearMessages() async throws {
        let a = try await FakeNode.start(name: "a")
        let gateway = try await GatewayHarness.start(GatewayHarness.config([a.node]))
        defer { Task { await gateway.stop() } }
        let cases: [(String, Int, String)] = [
            (#"{"name":"x","url":"ftp://nope"}"#, 400, "invalid url"),
            (#"{"name":"x","url":"http://h:1","network":"mars"}"#, 400, "unknown network"),
            (#"{"name":"x","url":"http://h:1","role":"boss"}"#, 400, "invalid role"),
            (#"{"name":"bad name!","url":"http://h:1"}"#, 400, "invalid name"),
            (#"{"url":"http://h:1"}"#, 400, "missing name"),
            ("not json", 400, "JSON"),
            (#"{"name":"a","url":"http://h:1"}"#, 409, "already exists"),
        ]
        for (body, status, message) in cases {
            let reply = try await gateway.admin(.POST, "/api/v1/upstreams", body: body)
            #expect(reply.status == status, "\(body) -> \(reply.body)")
            #expect(reply.body.contains(message), "\(body) -> \(reply.body)")
        }
        #expect(try await gateway.admin(.POST, "/api/v1/upstreams/nope/disable").status == 404)
        #expect(try await gateway.upstream("a")["state"] != nil, "nothing broke")
    }

    @Test func secretsAreRedactedInTheAPI() async throws {
        let a = try await FakeNode.start(name: "a")
        let gateway = try await GatewayHarness.start(GatewayHarness.config([a.node]))
        defer { Task { await gateway.stop() } }
        let secretURL = "http://user:hunter2@127.0.0.1:\(a.port)/v3/9aa3d95b3bc440fa88ea12eaa4456161?key=topsecret"
        let added = try await gateway.admin(.POST, "/api/v1/upstreams", body: #"{"name":"keyed","url":"\#(secretURL)","role":"fallback"}"#)
        #expect(added.status == 201)
        let listed = try await gateway.admin(.GET, "/api/v1/upstreams")
        for secret in ["hunter2", "9aa3d95b3bc440fa88ea12eaa4456161", "topsecret"] {
            #expect(!added.body.contains(secret))
            #expect(!listed.body.contains(secret))
        }
    }

    @Test func theTokenGuardsTheAPIButNotTheProbes() async throws {
        let a = try await FakeNode.start(name: "a")
        let gateway = try await GatewayHarness.start(GatewayHarness.config([a.node], token: "s3cret"))
        defer { Task { await gateway.stop() } }
        #expect(try await gateway.admin(.GET, "/api/v1/upstreams").status == 401)
        #expect(try await gateway.admin(.GET, "/api/v1/upstreams", token: "wrong").status == 401)
        #expect(try await gateway.admin(.GET, "/api/v1/upstreams", token: "s3cret").status == 200)
        #expect(try await gateway.admin(.GET, "/healthz").status == 200)
    }

    @Test func aNonLoopbackAdminListenerNeedsAToken() async throws {
        var config = GatewayHarness.config([])
        config.admin.listen = ListenAddress(host: "0.0.0.0", port: 0)
        await #expect(throws: (any Error).self) { _ = try await GatewayHarness.start(config) }
    }

    @Test func upstreamsAddedThroughTheAPISurviveARestartAndRemovedOnesStayRemoved() async throws {
        let a = try await FakeNode.start(name: "a")
        let b = try await FakeNode.start(name: "b")
        let c = try await FakeNode.start(name: "c")
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("headway-\(UUID().uuidString).db").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let config = GatewayHarness.config([a.node, c.node], store: "sqlite:\(path)")

        let first = try await GatewayHarness.start(config)
        #expect(try await first.admin(.POST, "/api/v1/upstreams", body: #"{"name":"b","url":"\#(b.url)"}"#).status == 201)
        #expect(try await first.admin(.DELETE, "/api/v1/upstreams/c").status == 204)
        #expect(try await first.admin(.POST, "/api/v1/upstreams/a/disable").status == 200)
        try await first.eventually { try await first.inRotation("b") }
        await first.stop()

        let second = try await GatewayHarness.start(config)
        defer { Task { await second.stop() } }
        let names = (try await second.admin(.GET, "/api/v1/upstreams").json as? [[String: Any]])?.compactMap { $0["name"] as? String }
        #expect(names == ["a", "b"])
        #expect(try await second.state("a") == "disabled")
        #expect(try await second.upstream("b")["head"] as? Int == 100, "last health restored at start")
        #expect(try await second.eventually { try await second.inRotation("b") })
    }
}
