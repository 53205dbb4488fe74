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
    /// Primaries whose latest round was good but that have not had `recover_after` good rounds in
    /// a row yet: no traffic of their own, only a request that every upstream in rotation failed.
    public var recovering: [UpstreamHandle] = []
    /// For tiers too large to rank per request: primaries and fallbacks in rotation by the head
    /// they had when the table was built, highest first (see `NetworkRouter.sampled`).
    var primariesByHead: [HeadEntry] = []
    var fallbacksByHead: [HeadEntry] = []

    struct HeadEntry: Sendable {
        var head: UInt64
        var handle: UpstreamHandle
    }

    public init() {}

    /// Whether a request could be served by an own node right now.
    public var fallbackActive: Bool { primaries.isEmpty }

    /// `handles` by head, highest first.
    static func byHead(_ handles: [UpstreamHandle]) -> [HeadEntry] {
        handles.map { HeadEntry(head: $0.head, handle: $0) }.sorted { $0.head > $1.head }
    }

    /// How many entries of `byHead` (highest head first) have a head of at least `needed`.
    static func countAtOrAbove(_ needed: UInt64, in byHead: [HeadEntry]) -> Int {
        var low = 0
        var high = byHead.count
        while low < high {
            let middle = (low + high) / 2
            if byHead[middle].head >= needed { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
