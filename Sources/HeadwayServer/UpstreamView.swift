import Foundation
import HeadwayCore

/// An upstream as the admin API shows it (JSON, snake_case keys, URLs redacted).
public struct UpstreamView: Codable, Sendable, Equatable {
    public var name: String
    public var network: String
    public var role: String
    public var url: String
    public var ws: String?
    public var state: String
    /// Whether the upstream is in rotation (may take client traffic).
    public var healthy: Bool
    public var head: UInt64?
    public var lag: UInt64?
    public var latencyMs: Double?
    public var lastChecked: Date?
    public var stateSince: Date?
    public var addedAt: Date
    public var source: String
    public var reason: String?
    /// The circuit breaker fed by live requests: `closed`, `open` or `half_open`.
    public var breaker: String?
    /// The upstream's WebSocket `newHeads` feed: `none` (no `ws` URL), `connecting`,
    /// `subscribed` or `disconnected`.
    public var wsState: String?

    enum CodingKeys: String, CodingKey {
        case name, network, role, url, ws, state, healthy, head, lag
        case latencyMs = "latency_ms"
        case lastChecked = "last_checked"
        case stateSince = "state_since"
        case addedAt = "added_at"
        case source, reason, breaker
        case wsState = "ws_state"
    }

    public init(_ status: UpstreamStatus) {
        name = status.definition.name
        network = status.definition.network
        role = status.definition.role.rawValue
        url = status.redactedURL
        ws = status.redactedWS
        state = status.health.state.rawValue
        healthy = status.health.inRotation
        head = status.health.head
        lag = status.health.lag
        latencyMs = status.health.latency.map { ($0.milliseconds * 10).rounded() / 10 }
        lastChecked = status.health.lastChecked
        stateSince = status.health.stateSince
        addedAt = status.definition.addedAt
        source = status.definition.source.rawValue
        reason = status.health.reason
        breaker = status.breaker.rawValue
        wsState = status.pushFeed.rawValue
    }

    public static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    public static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }()
}

/// The body of `POST /api/v1/upstreams`.
public struct NewUpstream: Codable, Sendable {
    public var name: String
    public var url: String
    public var ws: String?
    public var role: String?
    public var network: String?

    public init(name: String, url: String, ws: String? = nil, role: String? = nil, network: String? = nil) {
        self.name = name
        self.url = url
        self.ws = ws
        self.role = role
        self.network = network
    }
}
