/// Choosing, for one request, which upstreams to try and in which order.
extension NetworkRouter {
    /// The upstreams to try for a request that needs `requirement`, best first: primaries in
    /// rotation, then fallbacks in rotation, then the last resort. Within a tier, upstreams known
    /// to have the block (a head at or above the number; at the network head for tags) come first,
    /// ranked as usual; the others follow, highest head first: their known head may be a round old,
    /// and when they do lack the block their answer ("header not found", `null`) is retried
    /// elsewhere. Upstreams whose breaker is open go last in their tier.
    public func candidates(for requirement: BlockRequirement) -> [UpstreamHandle] {
        let table = routingTable
        let now = ContinuousClock.now
        let needed: UInt64
        switch requirement {
        case .none: needed = 0
        case .head: needed = head ?? 0
        case .number(let number): needed = number
        }
        func ordered(_ handles: [UpstreamHandle]) -> [UpstreamHandle] {
            var having: [UpstreamHandle] = []
            var lacking: [UpstreamHandle] = []
            var refusing: [UpstreamHandle] = []
            for handle in handles {
                if !handle.breaker.withLock({ $0.wouldAllow(at: now) }) {
                    refusing.append(handle)
                } else if handle.head >= needed {
                    having.append(handle)
                } else {
                    lacking.append(handle)
                }
            }
            return RoutingTable.ranked(having) + lacking.sorted { $0.head > $1.head } + refusing
        }
        var order = ordered(table.primaries)
        order += ordered(table.fallbacks)
        order += table.lastResort
        return order
    }
}
