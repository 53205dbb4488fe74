import HTTPTypes
import HeadwayCore
import Hummingbird
import JSONRPC
import NIOCore

/// The JSON-RPC endpoint: `POST /{network}`, and `POST /` when one network is configured.
public struct RPCRoutes: Sendable {
    let gateway: Gateway
    let maxBodyBytes: Int

    public init(gateway: Gateway, maxBodyBytes: Int) {
        self.gateway = gateway
        self.maxBodyBytes = maxBodyBytes
    }

    public func register<Context: RequestContext>(on router: Router<Context>) {
        router.post("/") { request, context in
            guard let network = gateway.defaultNetwork else {
                return noDefaultNetwork()
            }
            return try await handle(request, network: network)
        }
        router.post("/:network") { request, context in
            let name = context.parameters.get("network") ?? ""
            guard let network = gateway.networks[name] else {
                return unknownNetwork(name)
            }
            return try await handle(request, network: network)
        }
        let hint: @Sendable (Request, Context) async throws -> Response = { request, context in
            // A WebSocket upgrade that was not made: an unknown network, or too many connections.
            if request.headers[.upgrade]?.lowercased() == "websocket" {
                let name = context.parameters.get("network")
                if let name, gateway.networks[name] == nil { return unknownNetwork(name) }
                if name == nil, gateway.defaultNetwork == nil { return noDefaultNetwork() }
                return Self.error(
                    503, .limitExceeded("WebSocket upgrade refused: too many connections (server.ws.max_connections) or a malformed handshake"))
            }
            return Self.error(405, .invalidRequest("JSON-RPC requests are sent with POST"))
        }
        router.get("/", use: hint)
        router.get("/:network", use: hint)
    }

    func handle(_ request: Request, network: NetworkRouter) async throws -> Response {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > maxBodyBytes {
            return Self.tooLarge(maxBodyBytes)
        }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: maxBodyBytes)
        } catch is NIOTooManyBytesError {
            return Self.tooLarge(maxBodyBytes)
        }
        let reply = await gateway.handle(body, network: network)
        guard let replyBody = reply.body else {
            return Response(status: .noContent, headers: reply.headerFields)
        }
        return Response(status: .init(code: reply.status), headers: reply.headerFields, body: .init(byteBuffer: replyBody))
    }

    func unknownNetwork(_ name: String) -> Response {
        Self.error(404, .invalidRequest("unknown network \(name.debugDescription); configured: \(gateway.networkNames.joined(separator: ", "))"))
    }

    func noDefaultNetwork() -> Response {
        Self.error(404, .invalidRequest("several networks are configured; use /{network}: \(gateway.networkNames.joined(separator: ", "))"))
    }

    static let upstreamHeader = HTTPField.Name("X-Headway-Upstream")!
    static let attemptsHeader = HTTPField.Name("X-Headway-Attempts")!
    static let cacheHeader = HTTPField.Name("X-Headway-Cache")!

    static func tooLarge(_ limit: Int) -> Response {
        error(413, tooLargeError(limit))
    }

    static func tooLargeError(_ limit: Int) -> JSONRPCError {
        .limitExceeded("body larger than max_body_bytes (\(limit))")
    }

    static func error(_ status: Int, _ error: JSONRPCError) -> Response {
        Response(
            status: .init(code: status), headers: [.contentType: "application/json"],
            body: .init(byteBuffer: error.response(id: .null)))
    }
}

extension Gateway.Reply {
    /// The reply's headers: which upstream answered, after how many attempts, whether the cache
    /// did; `Content-Type` when there is a body.
    var headerFields: HTTPFields {
        var headers = HTTPFields()
        forEachHeader { headers[$0] = $1 }
        return headers
    }

    /// The same headers, one by one (``RPCChannelHandler`` writes them as NIO `HTTPHeaders`).
    func forEachHeader(_ header: (HTTPField.Name, String) -> Void) {
        if let upstream { header(RPCRoutes.upstreamHeader, upstream) }
        if attempts > 0 { header(RPCRoutes.attemptsHeader, String(attempts)) }
        if let cache { header(RPCRoutes.cacheHeader, cache.header) }
        if body != nil { header(.contentType, "application/json") }
    }
}
