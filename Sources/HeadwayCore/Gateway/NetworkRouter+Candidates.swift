/// Choosing, for one request, which upstreams to try and in which order.
extension NetworkRouter {
    /// The upstreams to try for a request that needs `requirement`, best first: primaries in
    /// rotation, then fallbacks in rotation, then the last resort. Within a tier only upstreams
    /// that have the block qualify (a head at or above the number; at the network head for tags);
    /// when none does, those at the tier's highest head answer (as a node does for a block that
    /// does not exist yet). Upstreams whose breaker is open are left out unless nothing else is left.
    func candidates(for requirement: BlockRequirement) -> [UpstreamHandle] {
        let table = routingTable
        let networkHead = head ?? 0
        let now = ContinuousClock.now
        func qualified(_ handles: [UpstreamHandle]) -> [UpstreamHandle] {
            let allowed = handles.filter { handle in handle.breaker.withLock { $0.wouldAllow(at: now) } }
            let pool = allowed.isEmpty ? handles : allowed
            let needed: UInt64
            switch requirement {
            case .none: return RoutingTable.ranked(pool)
            case .head: needed = networkHead
            case .number(let number): needed = number
            }
            let having = pool.filter { $0.head >= needed }
            if !having.isEmpty { return RoutingTable.ranked(having) }
            let highest = pool.map(\.head).max() ?? 0
            return RoutingTable.ranked(pool.filter { $0.head == highest })
        }
        var order = qualified(table.primaries)
        order += qualified(table.fallbacks)
        order += table.lastResort
        return order
    }
}
