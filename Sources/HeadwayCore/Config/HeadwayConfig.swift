/// The whole configuration, as plain data. Keys, types and defaults are documented in
/// `docs/configuration.md`; the loader lives in HeadwayApp.
public struct HeadwayConfig: Sendable, Equatable {
    public var server = ServerConfig()
    public var admin = AdminConfig()
    /// `store` (string, default `sqlite:headway.db`): `sqlite:PATH` or `postgres://...`.
    public var store = "sqlite:headway.db"
    /// `networks` (map, in file order).
    public var networks: [NetworkConfig] = []

    public init() {}
}

/// `server`: the JSON-RPC listener.
public struct ServerConfig: Sendable, Equatable {
    /// `listen` (host:port, default `127.0.0.1:8545`).
    public var listen = ListenAddress(host: "127.0.0.1", port: 8545)
    /// `max_body_bytes` (integer, default 5242880): larger bodies get HTTP 413 and -32005.
    public var maxBodyBytes = 5_242_880
    /// `max_batch` (integer, default 1000): larger batches get -32005.
    public var maxBatch = 1000
    /// `blocked_methods` (list of names or `prefix_*` patterns): answered with -32004.
    public var blockedMethods = ["admin_*", "personal_*", "debug_*", "miner_*"]
    /// `drain_timeout` (duration, default 10s): on SIGTERM, how long in-flight requests have to
    /// finish after the listeners closed; the process exits 0 then, whatever is left.
    public var drainTimeout: Duration = .seconds(10)
    /// `ws`: WebSocket connections on the same listener.
    public var ws = WebSocketConfig()

    public init() {}
}

/// `admin`: the admin listener (API, probes, metrics, status page).
public struct AdminConfig: Sendable, Equatable {
    /// `listen` (host:port, default `127.0.0.1:8550`).
    public var listen = ListenAddress(host: "127.0.0.1", port: 8550)
    /// `token` (string, default none): bearer token; required when `listen` is not loopback.
    public var token: String?

    public init() {}
}

/// `networks.NAME`: one chain and its fleet.
public struct NetworkConfig: Sendable, Equatable {
    public var name: String
    /// `chain_id` (integer, required): the chain every upstream must report.
    public var chainID: UInt64
    public var health = HealthConfig()
    public var request = RequestConfig()
    public var subscriptions = SubscriptionConfig()
    public var cache = CacheConfig()
    /// `upstreams` (list): seeded into the store at start.
    public var upstreams: [UpstreamDefinition] = []

    public init(name: String, chainID: UInt64) {
        self.name = name
        self.chainID = chainID
    }
}

/// A `host:port` to listen on.
public struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port`, `[v6]:port` or `:port` (all interfaces).
    public init?(parsing text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65535).contains(port)
        else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        self.host = host.isEmpty ? "0.0.0.0" : host
        self.port = port
    }

    /// Whether only this machine can reach the address.
    public var isLoopback: Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// `server.ws`: limits for WebSocket clients.
public struct WebSocketConfig: Sendable, Equatable {
    /// `max_connections` (integer, default 20000): further upgrades are refused with HTTP 503.
    public var maxConnections = 20_000
    /// `max_subscriptions` (integer, default 100): subscriptions one connection may hold.
    public var maxSubscriptions = 100
    /// `max_message_bytes` (integer, default 5242880): larger client messages close the
    /// connection with code 1009.
    public var maxMessageBytes = 5_242_880
    /// `idle_timeout` (duration, default 5m): a connection with no subscription that sends
    /// nothing for this long is closed (code 1000, "idle").
    public var idleTimeout: Duration = .seconds(300)
    /// `send_buffer_bytes` (integer, default 4194304): bytes of messages a connection may have
    /// waiting that the kernel has not taken (its socket buffer is full: the client does not
    /// read); past it the client is disconnected (code 1008, "send buffer full").
    public var sendBufferBytes = 4_194_304
    /// `socket_send_buffer` (integer, default 262144): the kernel's send buffer for a WebSocket
    /// connection, in bytes (a fixed size bounds memory per connection).
    public var socketSendBuffer = 262_144

    public init() {}
}
