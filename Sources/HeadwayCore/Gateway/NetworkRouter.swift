import Foundation
import JSONRPC
import Logging
import NIOCore
import Synchronization

/// One network at run time: its upstreams, their health, and the forwarding of client requests.
///
/// The health picture is decided by the pure ``HealthTracker``; this type owns it behind a lock,
/// rebuilds the ``RoutingTable`` after every change, and runs the request path.
public final class NetworkRouter: Sendable {
    public let config: NetworkConfig
    let logger: Logger

    struct State: Sendable {
        var definitions: [String: UpstreamDefinition] = [:]
        var handles: [String: UpstreamHandle] = [:]
        /// Registration order, for stable listings.
        var order: [String] = []
        var tracker: HealthTracker
        var table = RoutingTable()
    }
    let state: Mutex<State>
    /// The highest head seen in `eth_blockNumber` answers: raised between rounds by every answer,
    /// never below what this gateway told a client (see ``consistentBlockNumber(_:upstream:)``).
    let observedHead = Atomic<UInt64>(0)
    /// Seeds the random draws of ``sampled(_:needed:count:now:into:)``.
    let sampleSeed = Atomic<UInt64>(0)

    /// Answers that cannot change (nil when `cache.enabled` is false).
    public let cache: ResponseCache?
    /// Waits for hedge delays and deadlines.
    let timer: any RequestTimer

    public init(config: NetworkConfig, logger: Logger = Logger(label: "headway"), timer: any RequestTimer = TaskSleepTimer()) {
        self.config = config
        self.logger = logger
        self.timer = timer
        self.cache = config.cache.enabled ? ResponseCache(config: config.cache) : nil
        self.state = Mutex(State(tracker: HealthTracker(maxLag: config.health.maxLag, recoverAfter: config.health.recoverAfter)))
    }

    public var name: String { config.name }

    // MARK: Registry

    /// Adds (or replaces) an upstream.
    public func add(_ definition: UpstreamDefinition, transport: any UpstreamTransport, at now: Date = Date()) {
        let handle = UpstreamHandle(definition: definition, transport: transport, breaker: config.request.breaker)
        state.withLock { state in
            if state.definitions[definition.name] == nil { state.order.append(definition.name) }
            state.definitions[definition.name] = definition
            state.handles[definition.name] = handle
            if definition.disabled {
                state.tracker.disable(definition.name, at: now)
            } else {
                state.tracker.track(definition.name, at: now)
            }
            state.rebuildTable()
        }
    }

    /// Removes an upstream; returns whether it was there.
    @discardableResult
    public func remove(_ name: String) -> Bool {
        state.withLock { state in
            guard state.definitions.removeValue(forKey: name) != nil else { return false }
            state.handles[name] = nil
            state.order.removeAll { $0 == name }
            state.tracker.forget(name)
            state.rebuildTable()
            return true
        }
    }

    /// Disables or enables an upstream; returns whether it was there.
    @discardableResult
    public func setDisabled(_ name: String, _ disabled: Bool, at now: Date = Date()) -> Bool {
        state.withLock { state in
            guard var definition = state.definitions[name] else { return false }
            guard definition.disabled != disabled else { return true }
            definition.disabled = disabled
            state.definitions[name] = definition
            if disabled {
                state.tracker.disable(name, at: now)
            } else {
                state.tracker.track(name, at: now)
            }
            state.rebuildTable()
            return true
        }
    }

    /// Restores the persisted health of an upstream after a restart (shown until the first round).
    public func restore(_ name: String, state upstreamState: UpstreamState, head: UInt64?, stateSince: Date?) {
        state.withLock { state in
            guard let definition = state.definitions[name], !definition.disabled else { return }
            state.tracker.restore(name, state: upstreamState, head: head, stateSince: stateSince)
        }
    }

    // MARK: Health

    /// The upstreams a round must probe, and whether each needs its chain id checked.
    public func probeTargets() -> [(handle: UpstreamHandle, checkChain: Bool)] {
        state.withLock { state in
            state.order.compactMap { name in
                guard let definition = state.definitions[name], !definition.disabled, let handle = state.handles[name] else {
                    return nil
                }
                return (handle, state.tracker[name]?.needsChainCheck ?? true)
            }
        }
    }

    /// Applies a round's outcomes; returns the state changes.
    @discardableResult
    public func apply(_ outcomes: [String: ProbeOutcome], at now: Date) -> [HealthTracker.Transition] {
        state.withLock { state in
            // Outcomes of upstreams removed or disabled while the round ran are dropped.
            let current = outcomes.filter { state.definitions[$0.key].map { !$0.disabled } ?? false }
            let transitions = state.tracker.apply(current, at: now)
            for (name, outcome) in current {
                guard case .answered(let head, _, _) = outcome, let handle = state.handles[name] else { continue }
                handle.setHead(head)
                // A good round clears what failed client requests suspected.
                if state.tracker[name]?.state == .healthy { handle.clearSuspicion() }
            }
            // An upstream that comes back into rotation (after recover_after good rounds) starts
            // with a closed breaker: what opened it is older than the rounds that readmitted it.
            for transition in transitions where transition.inRotation {
                state.handles[transition.upstream]?.breaker.withLock { $0.reset() }
            }
            // The whole network went back by more than max_lag (a deep reorg, a chain reset):
            // follow it rather than holding clients at a head no upstream has any more.
            if let roundHead = state.tracker.networkHead, observedHead.load(ordering: .relaxed) > roundHead + config.health.maxLag {
                observedHead.store(roundHead, ordering: .relaxed)
            }
            state.rebuildTable()
            return transitions
        }
    }

    /// The network head: the latest round's, raised by `eth_blockNumber` answers since.
    public var head: UInt64? {
        let round = state.withLock { $0.tracker.networkHead }
        let observed = observedHead.load(ordering: .relaxed)
        guard let round else { return observed > 0 ? observed : nil }
        return max(round, observed)
    }

    /// Records a head an upstream pushed (its WebSocket `newHeads` feed); ignored unless the
    /// upstream is in rotation (a node on the wrong chain or syncing must not move the head).
    public func observePushedHead(_ head: UInt64, upstream name: String) {
        let handle: UpstreamHandle? = state.withLock { state in
            guard state.tracker[name]?.inRotation == true else { return nil }
            return state.handles[name]
        }
        if let handle { observe(head: head, from: handle) }
    }

    /// The upstreams with a WebSocket URL, by name.
    public func pushFeeds() -> [(handle: UpstreamHandle, url: String)] {
        state.withLock { state in
            state.order.compactMap { name in
                guard let definition = state.definitions[name], !definition.disabled, let ws = definition.ws, let handle = state.handles[name] else {
                    return nil
                }
                return (handle, ws)
            }
        }
    }

    /// Records a head an upstream reported in an answer.
    func observe(head: UInt64, from handle: UpstreamHandle) {
        handle.headBlock.raise(to: head)
        observedHead.raise(to: head)
    }

    /// Everything the admin API and the status page show, in registration order.
    public func statuses() -> [UpstreamStatus] {
        state.withLock { state in
            state.order.compactMap { name in
                guard let definition = state.definitions[name], let handle = state.handles[name] else { return nil }
                return UpstreamStatus(
                    definition: definition, redactedURL: handle.redactedURL,
                    redactedWS: definition.ws.map(URLRedactor.redact),
                    health: state.tracker[name] ?? UpstreamHealth(), breaker: handle.breakerState,
                    pushFeed: definition.ws == nil ? .none : handle.pushFeedState)
            }
        }
    }

    public func status(of name: String) -> UpstreamStatus? {
        statuses().first { $0.definition.name == name }
    }

    /// Whether some upstream can take traffic now.
    public var canServe: Bool {
        state.withLock { !$0.table.primaries.isEmpty || !$0.table.fallbacks.isEmpty }
    }

    public var routingTable: RoutingTable { state.withLock { $0.table } }

    /// Every upstream of the network, whatever its state (sticky filters look their creator up here).
    func handle(withFilterTag tag: Substring) -> UpstreamHandle? {
        state.withLock { state in state.handles.values.first { $0.filterTag == tag } }
    }
}

extension NetworkRouter.State {
    mutating func rebuildTable() {
        var table = RoutingTable()
        for name in order {
            guard let handle = handles[name], let definition = definitions[name], !definition.disabled else { continue }
            let health = tracker[name] ?? UpstreamHealth()
            switch (definition.role, health.inRotation) {
            case (.primary, true): table.primaries.append(handle)
            case (.primary, false):
                if health.state == .healthy { table.recovering.append(handle) }
            case (.fallback, true): table.fallbacks.append(handle)
            case (.fallback, false):
                if health.state != .wrongChain { table.lastResort.append(handle) }
            }
        }
        if table.primaries.count > NetworkRouter.fullRankingLimit { table.primariesByHead = RoutingTable.byHead(table.primaries) }
        if table.fallbacks.count > NetworkRouter.fullRankingLimit { table.fallbacksByHead = RoutingTable.byHead(table.fallbacks) }
        self.table = table
    }
}

/// One upstream as the admin API shows it.
public struct UpstreamStatus: Sendable {
    public var definition: UpstreamDefinition
    public var redactedURL: String
    public var redactedWS: String?
    public var health: UpstreamHealth
    /// The circuit breaker fed by live requests.
    public var breaker: CircuitBreaker.State
    /// The WebSocket `newHeads` feed.
    public var pushFeed: PushFeedState
}
