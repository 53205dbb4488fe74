/// Which upstreams of a network may take client traffic, rebuilt whenever health or the registry
/// changes. Reading it is all the request path does to choose.
public struct RoutingTable: Sendable {
    /// Primaries in rotation.
    public var primaries: [UpstreamHandle] = []
    /// Fallbacks in rotation.
    public var fallbacks: [UpstreamHandle] = []
    /// Fallbacks out of rotation whose health is unknown or bad, but not disabled or on the wrong
    /// chain: tried as the very last resort.
    public var lastResort: [UpstreamHandle] = []

    public init() {}

    /// Whether a request could be served by an own node right now.
    public var fallbackActive: Bool { primaries.isEmpty }

    /// Best first: those whose latest client request failed last, then least outstanding
    /// requests, then lowest recent latency. The order of a request's candidates is
    /// `NetworkRouter.candidates(for:)`.
    static func ranked(_ handles: [UpstreamHandle]) -> [UpstreamHandle] {
        if handles.count <= 1 { return handles }
        return handles.map { (handle: $0, suspect: $0.isSuspect ? 1 : 0, outstanding: $0.outstanding, latency: $0.recentLatency) }
            .sorted { ($0.suspect, $0.outstanding, $0.latency) < ($1.suspect, $1.outstanding, $1.latency) }
            .map(\.handle)
    }
}
