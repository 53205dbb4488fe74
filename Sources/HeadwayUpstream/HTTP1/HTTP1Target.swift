import HeadwayCore
import NIOCore
import NIOHTTP1

/// What every connection to one upstream shares: the address, the request line and headers, and
/// the limits.
struct HTTP1Target: Sendable {
    let url: UpstreamURL
    /// Sent with every request; `content-length` is added per request.
    let headers: HTTPHeaders
    let maxResponseBytes: Int
    let connectTimeout: TimeAmount
    /// A connection idle longer than this is closed rather than reused (nodes and the proxies in
    /// front of them close idle connections; reusing one just as it closes loses the request).
    let idleTimeout: TimeAmount
    /// An idle connection unused this long while others of its pool were used is surplus and is
    /// closed (see `HTTP1LoopPool.release`).
    let surplusAfter: TimeAmount = .seconds(10)
    /// Idle connections kept per event loop; more are closed when their exchange ends.
    let maxIdle: Int
    /// Why no request can be sent to this URL (``UpstreamDefinition/urlProblem(_:websocket:)``):
    /// NIO does not check the head on each request, so a URL that got past the checks (a
    /// registry entry stored before a check existed) fails every exchange instead.
    let urlProblem: String?

    init(url: String, maxResponseBytes: Int, connectTimeout: TimeAmount, idleTimeout: TimeAmount, maxIdle: Int) {
        urlProblem = UpstreamDefinition.urlProblem(url)
        let url = UpstreamURL(url)
        self.url = url
        var headers = HTTPHeaders()
        headers.add(name: "host", value: url.hostHeader)
        headers.add(name: "content-type", value: "application/json")
        headers.add(name: "accept", value: "application/json")
        if let authorization = url.authorization { headers.add(name: "authorization", value: authorization) }
        self.headers = headers
        self.maxResponseBytes = maxResponseBytes
        self.connectTimeout = connectTimeout
        self.idleTimeout = idleTimeout
        self.maxIdle = maxIdle
    }

    /// For messages: the URL with its secrets masked.
    var redactedURL: String { url.redacted }
}
