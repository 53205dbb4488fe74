import JSONRPC
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// A network's `eth_subscribe` subscriptions. Headway follows the network head itself and fans
/// one stream out to every client: `newHeads` sees each block number once, in order and without
/// gaps (headers fetched by number through the normal routing, so never from a node behind the
/// block); `logs` subscriptions with the same filter share one `eth_getLogs` per block, pinned
/// to the header just emitted; `newPendingTransactions` share one pending-transaction filter.
/// Because the streams come from the gateway and not from one upstream's socket, an upstream
/// that fails or falls behind costs a subscription nothing: the next block is fetched elsewhere
/// and the client keeps its subscription id.
///
/// Subscription ids are unique on a connection, as a node's are, but not across connections: a
/// connection's first subscription of a kind (and filter) gets the id every other connection
/// gets for its first one of that kind, its second the id of everyone's second, and so on. The
/// ids come from a keyed hash with a secret drawn at start, so they say nothing about other
/// clients. A block's notification is then one message (and one WebSocket frame) shared by all
/// the connections that follow it, not 10,000 copies.
public final class SubscriptionHub: Service, Sendable {
    public enum Kind: Sendable, Equatable {
        case newHeads
        /// Logs matching a filter, keyed by its canonical text.
        case logs(filterKey: String)
        case newPendingTransactions

        /// The kind and filter as text, for the ids.
        var key: String {
            switch self {
            case .newHeads: "newHeads"
            case .logs(let filterKey): "logs" + filterKey
            case .newPendingTransactions: "newPendingTransactions"
            }
        }
    }

    struct Subscription: Sendable {
        var kind: Kind
        var sink: any SubscriptionSink
    }

    /// A subscription is known by its connection and its id.
    struct SubscriptionKey: Hashable, Sendable {
        var sink: ObjectIdentifier
        var id: String
    }

    /// A log filter shared by the subscriptions with the same one.
    struct LogFilter: Sendable {
        /// The client's filter members (address, topics), without any block range.
        var members: [(key: String, value: ByteBuffer)]
        var subscribers: Int
    }

    struct State: Sendable {
        var subscriptions: [SubscriptionKey: Subscription] = [:]
        /// The ids of each sink's subscriptions (a closing connection drops its own in O(own)).
        var bySink: [ObjectIdentifier: Set<String>] = [:]
        /// How many subscriptions follow heads (`newHeads` and `logs`) and pending transactions.
        var headFollowers = 0
        var pendingFollowers = 0
        var filters: [String: LogFilter] = [:]
        /// The last block whose header (and logs) went out; nil while nobody follows heads.
        var lastBlock: UInt64?
        /// The gateway's pending-transaction filter id, while someone wants pending transactions.
        var pendingFilter: String?
        /// The poll loop waiting for its next tick, and whether a wake-up came while it was not.
        var waiter: CheckedContinuation<Void, Never>?
        var woken = false
    }

    public let router: NetworkRouter
    let logger: Logger
    let state = Mutex(State())
    /// The key of the subscription ids' hash.
    let idSecret: [UInt8] = {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }()

    public init(router: NetworkRouter, logger: Logger = Logger(label: "headway")) {
        self.router = router
        self.logger = logger
    }

    var pollInterval: Duration { router.config.subscriptions.pollInterval }

    // MARK: Subscribing

    /// `eth_subscribe` with its raw params: the new subscription id, or the error for the client.
    public func subscribe(params: RawJSON?, sink: any SubscriptionSink) -> Result<String, JSONRPCError> {
        guard let params, let elements = JSONMembers.array(params.bytes), let first = elements.first,
            let type = JSONMembers.stringValue(first)
        else {
            return .failure(JSONRPCError(code: -32602, message: "invalid params: expected [\"newHeads\"], [\"logs\", filter] or [\"newPendingTransactions\"]"))
        }
        let kind: Kind
        var filter: LogFilter?
        switch type {
        case "newHeads":
            kind = .newHeads
        case "newPendingTransactions":
            kind = .newPendingTransactions
        case "logs":
            var members: [(key: String, value: ByteBuffer)] = []
            if elements.count > 1 {
                guard let object = JSONMembers.object(elements[1]) else {
                    return .failure(JSONRPCError(code: -32602, message: "invalid params: the logs filter must be an object"))
                }
                members = object.filter { $0.key == "address" || $0.key == "topics" }
            }
            let key = String(buffer: JSONMembers.encode(members))
            kind = .logs(filterKey: key)
            filter = LogFilter(members: members, subscribers: 0)
        default:
            return .failure(JSONRPCError(code: -32602, message: "unsupported subscription type \(type.debugDescription)"))
        }
        return .success(
            state.withLock { state in
                // The connection's n-th subscription of this kind has everyone's n-th id.
                let taken = state.bySink[ObjectIdentifier(sink)] ?? []
                var ordinal = 0
                var id = subscriptionID(kind, ordinal)
                while taken.contains(id) {
                    ordinal += 1
                    id = subscriptionID(kind, ordinal)
                }
                state.add(id, Subscription(kind: kind, sink: sink), filter: filter)
                return id
            })
    }

    /// `eth_unsubscribe`: whether `id` was a subscription of this sink's (now gone).
    public func unsubscribe(_ id: String, sink: any SubscriptionSink) -> Bool {
        state.withLock { state in
            guard state.subscriptions[SubscriptionKey(sink: ObjectIdentifier(sink), id: id)] != nil else { return false }
            state.remove(id, of: ObjectIdentifier(sink))
            return true
        }
    }

    /// Drops every subscription of a closed connection.
    public func drop(_ sink: any SubscriptionSink) {
        state.withLock { state in
            for id in state.bySink[ObjectIdentifier(sink)] ?? [] { state.remove(id, of: ObjectIdentifier(sink)) }
        }
    }

    /// How many subscriptions of each kind are active.
    public var counts: (newHeads: Int, logs: Int, newPendingTransactions: Int) {
        state.withLock { state in
            var counts = (newHeads: 0, logs: 0, newPendingTransactions: 0)
            for subscription in state.subscriptions.values {
                switch subscription.kind {
                case .newHeads: counts.newHeads += 1
                case .logs: counts.logs += 1
                case .newPendingTransactions: counts.newPendingTransactions += 1
                }
            }
            return counts
        }
    }

    /// The id of a connection's `ordinal`-th subscription of `kind`: 16 bytes of a keyed hash
    /// as `0x` + 32 hex digits, like a node's subscription ids.
    func subscriptionID(_ kind: Kind, _ ordinal: Int) -> String {
        let hash = Keccak256.hash(idSecret + Array("\(kind.key)#\(ordinal)".utf8))
        return "0x" + Hex.digits(hash.prefix(16))
    }

    // MARK: Running

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await self.tick()
                await self.sleepUntilNextTick()
            }
        }
    }

    /// Polls now rather than at the next interval (an upstream pushed a new head).
    public func wake() {
        let waiter = state.withLock { state in
            guard let waiter = state.waiter else {
                state.woken = true
                return nil as CheckedContinuation<Void, Never>?
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    /// Waits `poll_interval`, or less when woken.
    func sleepUntilNextTick() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await Task.sleep(for: self.pollInterval) }
            group.addTask { await self.waitForWake() }
            await group.next()
            group.cancelAll()
        }
    }

    func waitForWake() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state in
                    if state.woken || Task.isCancelled {
                        state.woken = false
                        return true
                    }
                    state.waiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state in
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume()
        }
    }

    /// One poll: new blocks (headers and logs) and pending transactions, for whoever follows them.
    public func tick() async {
        let (heads, pending) = state.withLock { state -> (Bool, Bool) in
            let heads = state.headFollowers > 0
            let pending = state.pendingFollowers > 0
            if !heads { state.lastBlock = nil }
            if !pending { state.pendingFilter = nil }
            return (heads, pending)
        }
        if heads { await followHeads() }
        if pending { await pollPendingTransactions() }
    }

    /// Delivers each batch's results, in order, to the subscriptions of its kind, from one
    /// snapshot of the subscriptions: one notification per subscription id and result, shared by
    /// every connection with that id. Sinks whose buffer is full lose their subscriptions (their
    /// connection closes itself).
    func publish(_ batches: [(kind: Kind, results: [ByteBuffer])]) {
        let targets = state.withLock { state in state.subscriptions.map { (id: $0.key.id, kind: $0.value.kind, sink: $0.value.sink) } }
        var overflowed: [ObjectIdentifier: any SubscriptionSink] = [:]
        for batch in batches where !batch.results.isEmpty {
            var notifications: [String: [SubscriptionNotification]] = [:]
            for target in targets where target.kind == batch.kind && overflowed[ObjectIdentifier(target.sink)] == nil {
                let shared: [SubscriptionNotification]
                if let made = notifications[target.id] {
                    shared = made
                } else {
                    shared = batch.results.map { SubscriptionNotification(subscription: target.id, result: $0) }
                    notifications[target.id] = shared
                }
                for notification in shared where !target.sink.notify(notification) {
                    overflowed[ObjectIdentifier(target.sink)] = target.sink
                    break
                }
            }
        }
        for sink in overflowed.values { drop(sink) }
    }
}

extension SubscriptionHub.State {
    mutating func add(_ id: String, _ subscription: SubscriptionHub.Subscription, filter: SubscriptionHub.LogFilter?) {
        subscriptions[SubscriptionHub.SubscriptionKey(sink: ObjectIdentifier(subscription.sink), id: id)] = subscription
        bySink[ObjectIdentifier(subscription.sink), default: []].insert(id)
        count(subscription.kind, by: 1)
        if case .logs(let key) = subscription.kind, let filter {
            filters[key, default: filter].subscribers += 1
        }
    }

    mutating func remove(_ id: String, of sink: ObjectIdentifier) {
        guard let subscription = subscriptions.removeValue(forKey: SubscriptionHub.SubscriptionKey(sink: sink, id: id)) else { return }
        bySink[sink]?.remove(id)
        if bySink[sink]?.isEmpty == true { bySink[sink] = nil }
        count(subscription.kind, by: -1)
        if case .logs(let key) = subscription.kind, var filter = filters[key] {
            filter.subscribers -= 1
            filters[key] = filter.subscribers > 0 ? filter : nil
        }
    }

    mutating func count(_ kind: SubscriptionHub.Kind, by change: Int) {
        switch kind {
        case .newHeads, .logs: headFollowers += change
        case .newPendingTransactions: pendingFollowers += change
        }
    }
}
