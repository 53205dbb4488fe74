/// Choosing, for one request, which upstreams to try and in which order.
extension NetworkRouter {
    /// The upstreams to try for a request that needs `requirement`, best first: primaries in
    /// rotation, then fallbacks in rotation, then primaries recovering (their latest round good,
    /// `recover_after` not reached yet), then the last resort. Within a tier, upstreams known
    /// to have the block (a head at or above the number; at the network head for tags) come first,
    /// ranked as usual; the others follow, highest head first: their known head may be a round old,
    /// and when they do lack the block their answer ("header not found", `null`) is retried
    /// elsewhere. Upstreams whose breaker is open go last in their tier.
    ///
    /// A tier of more than ``fullRankingLimit`` upstreams is not ranked in full for every request:
    /// ``sampled(_:needed:count:now:into:)`` draws `max_attempts` of them instead, so that a request
    /// costs the same in a network of 20 upstreams as in one of 2,000.
    public func candidates(for requirement: BlockRequirement) -> [UpstreamHandle] {
        let table = routingTable
        let now = ContinuousClock.now
        let needed: UInt64
        switch requirement {
        case .none: needed = 0
        case .head: needed = head ?? 0
        case .number(let number): needed = number
        }
        var order: [UpstreamHandle] = []
        order.reserveCapacity(table.primaries.count + table.fallbacks.count + table.recovering.count + table.lastResort.count)
        func tier(_ handles: [UpstreamHandle], byHead: [RoutingTable.HeadEntry]) {
            if byHead.isEmpty {
                Self.rank(handles, needed: needed, now: now, into: &order)
            } else {
                sampled(byHead, needed: needed, count: max(1, config.request.maxAttempts), now: now, into: &order)
            }
        }
        tier(table.primaries, byHead: table.primariesByHead)
        tier(table.fallbacks, byHead: table.fallbacksByHead)
        // An own node on its way back (a good round, not yet `recover_after`) beats failing.
        order += table.recovering
        order += table.lastResort
        return order
    }

    /// Appends a small tier to `order`, fully ranked: those having the block by (suspect,
    /// outstanding requests, recent latency), then those lacking it, highest head first, then
    /// those whose breaker refuses, in the table's order. The keys are sorted in a stack buffer:
    /// ranking allocates nothing.
    static func rank(_ handles: [UpstreamHandle], needed: UInt64, now: ContinuousClock.Instant, into order: inout [UpstreamHandle]) {
        if handles.count <= 1 {
            order += handles
            return
        }
        typealias Key = (group: Int, head: UInt64, suspect: Int, outstanding: Int, latency: Duration, index: Int)
        withUnsafeTemporaryAllocation(of: Key.self, capacity: handles.count) { buffer in
            var keys = buffer
            for (index, handle) in handles.enumerated() {
                let key: Key
                if !handle.breaker.withLock({ $0.wouldAllow(at: now) }) {
                    key = (2, 0, 0, 0, .zero, index)
                } else if handle.head < needed {
                    key = (1, UInt64.max - handle.head, 0, 0, .zero, index)
                } else {
                    key = (0, 0, handle.isSuspect ? 1 : 0, handle.outstanding, handle.recentLatency, index)
                }
                keys.initializeElement(at: index, to: key)
            }
            keys.sort { $0 < $1 }
            for key in keys { order.append(handles[key.index]) }
            _ = keys.deinitialize()
        }
    }

    /// Tiers larger than this are sampled rather than ranked in full (see ``candidates(for:)``).
    static let fullRankingLimit = 16

    /// How one upstream ranks for a request, lower first: its breaker refuses, it lacks the block,
    /// its latest client request failed, its outstanding requests, its recent latency.
    typealias SampleKey = (refusing: Int, lacking: Int, suspect: Int, outstanding: Int, latency: Duration)

    /// Appends `count` distinct upstreams of a large tier to `order`, best first. Each is the best of at least two
    /// drawn at random ("power of two choices": load spreads like least-outstanding-requests
    /// without looking at every upstream); drawing goes on, up to eight draws, while the best so
    /// far lacks the block or its breaker refuses. Draws come first from the upstreams that had
    /// the block when the table was built (a binary search in `byHead`), then, when those were too
    /// few, from the whole tier.
    func sampled(
        _ byHead: [RoutingTable.HeadEntry], needed: UInt64, count: Int, now: ContinuousClock.Instant, into order: inout [UpstreamHandle]
    ) {
        func key(_ handle: UpstreamHandle) -> SampleKey {
            (
                handle.breaker.withLock { $0.wouldAllow(at: now) } ? 0 : 1, handle.head >= needed ? 0 : 1, handle.isSuspect ? 1 : 0,
                handle.outstanding, handle.recentLatency
            )
        }
        var picked: [(handle: UpstreamHandle, key: SampleKey)] = []
        picked.reserveCapacity(count)
        var random = SplitMix64(seed: sampleSeed.wrappingAdd(1, ordering: .relaxed).newValue)
        /// Picks from the first `pool` entries of `byHead` until `count` are picked.
        func draw(from pool: Int) {
            for _ in 0..<max(0, min(count - picked.count, pool)) {
                var best: (handle: UpstreamHandle, key: SampleKey)?
                for draw in 0..<8 {
                    let handle = byHead[Int(random.next() % UInt64(pool))].handle
                    if picked.contains(where: { $0.handle === handle }) || best?.handle === handle { continue }
                    let candidate = (handle: handle, key: key(handle))
                    if best == nil || candidate.key < best!.key { best = candidate }
                    if draw >= 1, let best, best.key.refusing == 0, best.key.lacking == 0 { break }
                }
                if let best { picked.append(best) }
            }
        }
        draw(from: RoutingTable.countAtOrAbove(needed, in: byHead))
        // Too few had the block: the rest of the tier follows, as in a fully ranked tier.
        if picked.count < count { draw(from: byHead.count) }
        picked.sort { $0.key < $1.key }
        for pick in picked { order.append(pick.handle) }
    }
}

/// A small, fast pseudo-random generator (SplitMix64) for spreading requests: no system call, no
/// lock; each request seeds its own from a shared counter.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) {
        state = seed &* 0x9E37_79B9_7F4A_7C15
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
