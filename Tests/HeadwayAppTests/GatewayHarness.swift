import AsyncHTTPClient
import Foundation
import HeadwayApp
import HeadwayCore
import HeadwayServer
import HeadwayStore
import HeadwayTesting
import Logging
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

/// A real Headway (real HTTP servers, real upstream client) on ephemeral ports in front of fake
/// nodes, for integration tests.
struct GatewayHarness {
    let application: HeadwayApplication
    let task: Task<Void, any Error>
    let rpc: String
    let admin: String
    let client = HTTPClient.shared

    struct Node {
        var name: String
        var url: String
        var role: UpstreamRole = .primary
    }

    static func config(
        _ nodes: [Node], chainID: UInt64 = 1, interval: Duration = .milliseconds(100), maxLag: UInt64 = 10, recoverAfter: Int = 2,
        token: String? = nil, store: String = "memory"
    ) -> HeadwayConfig {
        var config = HeadwayConfig()
        config.server.listen = ListenAddress(host: "127.0.0.1", port: 0)
        config.admin.listen = ListenAddress(host: "127.0.0.1", port: 0)
        config.admin.token = token
        config.store = store
        var network = NetworkConfig(name: "dev", chainID: chainID)
        network.health.interval = interval
        network.health.timeout = .seconds(1)
        network.health.maxLag = maxLag
        network.health.recoverAfter = recoverAfter
        network.request.attemptTimeout = .seconds(1)
        network.request.deadline = .seconds(5)
        network.upstreams = nodes.map { UpstreamDefinition(name: $0.name, network: "dev", role: $0.role, url: $0.url) }
        config.networks = [network]
        return config
    }

    static func start(_ config: HeadwayConfig) async throws -> GatewayHarness {
        var logger = Logger(label: "headway-test")
        logger.logLevel = .warning
        let application = try await HeadwayApplication(config: config, logger: logger)
        let task = Task { try await application.run() }
        let ports = await application.boundPorts()
        return GatewayHarness(
            application: application, task: task, rpc: "http://127.0.0.1:\(ports.rpc)", admin: "http://127.0.0.1:\(ports.admin)")
    }

    func stop() async {
        await application.stop()
        _ = try? await task.value
    }

    struct Reply {
        var status: Int
        var headers: HTTPHeaders
        var body: String
        var json: Any? { try? JSONSerialization.jsonObject(with: Data(body.utf8), options: [.fragmentsAllowed]) }
    }

    func post(_ url: String, _ body: String, headers: [(String, String)] = []) async throws -> Reply {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(string: body))
        return try await send(request)
    }

    func call(_ method: String, params: String = "[]", id: String = "1") async throws -> Reply {
        try await post(rpc, #"{"jsonrpc":"2.0","id":\#(id),"method":"\#(method)","params":\#(params)}"#)
    }

    func admin(_ method: HTTPMethod, _ path: String, body: String? = nil, token: String? = nil) async throws -> Reply {
        var request = HTTPClientRequest(url: admin + path)
        request.method = method
        if let token { request.headers.add(name: "authorization", value: "Bearer \(token)") }
        if let body {
            request.headers.add(name: "content-type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        return try await send(request)
    }

    func send(_ request: HTTPClientRequest) async throws -> Reply {
        let response = try await client.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 64 * 1024 * 1024)
        return Reply(status: Int(response.status.code), headers: response.headers, body: String(buffer: body))
    }

    /// The admin API's view of one upstream.
    func upstream(_ name: String, token: String? = nil) async throws -> [String: Any] {
        let reply = try await admin(.GET, "/api/v1/upstreams", token: token)
        let list = reply.json as? [[String: Any]] ?? []
        return list.first { $0["name"] as? String == name } ?? [:]
    }

    /// Waits (polling, bounded) until `condition` holds; returns whether it did.
    @discardableResult
    func eventually(within limit: Duration = .seconds(10), _ condition: () async throws -> Bool) async rethrows -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: limit)
        while clock.now < deadline {
            if try await condition() { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return try await condition()
    }

    func state(_ name: String) async throws -> String? {
        try await upstream(name)["state"] as? String
    }

    func states(_ names: String...) async throws -> [String?] {
        var states: [String?] = []
        for name in names { states.append(try await state(name)) }
        return states
    }

    func allInRotation(_ names: String...) async throws -> Bool {
        for name in names where try await !inRotation(name) { return false }
        return true
    }

    func anyInRotation(_ names: String...) async throws -> Bool {
        for name in names where try await inRotation(name) { return true }
        return false
    }

    func inRotation(_ name: String) async throws -> Bool {
        try await upstream(name)["healthy"] as? Bool ?? false
    }
}

extension FakeNode {
    var node: GatewayHarness.Node { GatewayHarness.Node(name: snapshot.name, url: url) }
    func fallback() -> GatewayHarness.Node { GatewayHarness.Node(name: snapshot.name, url: url, role: .fallback) }
}
