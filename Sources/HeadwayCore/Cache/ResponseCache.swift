import JSONRPC
import NIOCore
import Synchronization

/// A network's cache of answers that cannot change (see ``CachePolicy``), bounded by bytes with
/// the least recently used dropped first. Identical cacheable requests in flight at the same
/// moment go upstream once: the others wait for that answer.
public final class ResponseCache: Sendable {
    /// How a request was served: from the cache, with the answer to an identical request that
    /// was in flight, or upstream.
    public enum Result: Sendable {
        case hit
        case shared
        case miss

        /// `X-Headway-Cache`: `hit` for both ways of not going upstream.
        public var header: String { self == .miss ? "miss" : "hit" }
    }

    struct Entry: Sendable {
        var response: JSONRPCResponse
        var upstream: String
    }

    struct State: Sendable {
        var entries: ByteLRU<Entry>
        var inFlight: [String: [CheckedContinuation<Lookup, Never>]] = [:]
    }

    let config: CacheConfig
    let state: Mutex<State>
    public let hits = Atomic<Int>(0)
    public let misses = Atomic<Int>(0)

    public init(config: CacheConfig) {
        self.config = config
        self.state = Mutex(State(entries: ByteLRU(capacity: config.maxBytes)))
    }

    /// Answers `request` from the cache, from an identical request in flight, or with
    /// `forward()` (keeping the answer when it cannot change); nil when the request is not
    /// cacheable with the network at `head` (the caller forwards it as usual). `requirement` is
    /// the request's block requirement; the head is only read for a request that may be cacheable.
    public func answer(
        _ request: JSONRPCRequest, requirement: BlockRequirement, head currentHead: @autoclosure () -> UInt64?,
        forward: () async -> ForwardOutcome
    ) async -> (outcome: ForwardOutcome, cache: Result)? {
        guard let (rule, head, key) = cacheable(request, requirement: requirement, head: currentHead()) else { return nil }
        // One look under the lock: a hit, or wait for the identical request in flight, or lead.
        let lookup = await withCheckedContinuation { (continuation: CheckedContinuation<Lookup, Never>) in
            let now = state.withLock { state -> Lookup? in
                if let entry = state.entries.value(for: key) { return .hit(entry) }
                if state.inFlight[key] != nil {
                    state.inFlight[key]!.append(continuation)
                    return nil
                }
                state.inFlight[key] = []
                return .lead
            }
            if let now { continuation.resume(returning: now) }
        }
        switch lookup {
        case .hit(let entry):
            hits.add(1, ordering: .relaxed)
            return (.answered(entry.response, upstream: entry.upstream, attempts: 0), .hit)
        case .shared(let outcome):
            hits.add(1, ordering: .relaxed)
            return (outcome, .shared)
        case .lead:
            misses.add(1, ordering: .relaxed)
            let outcome = await forward()
            let waiters = state.withLock { state in
                if case .answered(let response, let upstream, _) = outcome,
                    CachePolicy.accepts(response, rule: rule, head: head, depth: config.finalityDepth)
                {
                    state.entries.set(key, Entry(response: response, upstream: upstream), size: response.body.readableBytes + key.utf8.count)
                }
                return state.inFlight.removeValue(forKey: key) ?? []
            }
            for waiter in waiters { waiter.resume(returning: .shared(outcome)) }
            return (outcome, .miss)
        }
    }

    /// What the cache holds for `request` now, without waiting (for the event-loop path).
    public enum Peek: Sendable {
        /// Not cacheable with the network at this head: forward it.
        case notCacheable
        /// The stored answer (counted as a hit).
        case hit(ForwardOutcome)
        /// Cacheable but not stored: ``answer(_:requirement:head:forward:)`` leads or joins.
        case miss
    }

    public func peek(_ request: JSONRPCRequest, requirement: BlockRequirement, head currentHead: @autoclosure () -> UInt64?) -> Peek {
        guard let (_, _, key) = cacheable(request, requirement: requirement, head: currentHead()) else { return .notCacheable }
        guard let entry = state.withLock({ $0.entries.value(for: key) }) else { return .miss }
        hits.add(1, ordering: .relaxed)
        return .hit(.answered(entry.response, upstream: entry.upstream, attempts: 0))
    }

    /// The rule, head and key of a request that may be answered from the cache, or nil.
    func cacheable(
        _ request: JSONRPCRequest, requirement: BlockRequirement, head currentHead: @autoclosure () -> UInt64?
    ) -> (CachePolicy.Rule, UInt64?, String)? {
        guard request.id != nil, let rule = CachePolicy.rule(method: request.method, params: request.params, requirement: requirement)
        else { return nil }
        let head = currentHead()
        if case .finalBlock(let number) = rule, !CachePolicy.isFinal(number, head: head, depth: config.finalityDepth) { return nil }
        return (rule, head, Self.key(request))
    }

    enum Lookup: Sendable {
        case hit(Entry)
        /// The answer of the identical request that was in flight.
        case shared(ForwardOutcome)
        case lead
    }

    /// Requests are the same when their method and params are, byte for byte.
    static func key(_ request: JSONRPCRequest) -> String {
        request.method + "\u{0}" + (request.params.map { String(buffer: $0.bytes) } ?? "")
    }
}
