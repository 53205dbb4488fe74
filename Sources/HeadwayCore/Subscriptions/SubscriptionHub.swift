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
public final class SubscriptionHub: Service, Sendable {
    public enum Kind: Sendable, Equatable {
        case newHeads
        /// Logs matching a filter, keyed by its canonical text.
        case logs(filterKey: String)
        case newPendingTransactions
    }

    struct Subscription: Sendable {
        var kind: Kind
        var sink: any SubscriptionSink
    }

    /// A log filter shared by the subscriptions with the same one.
    struct LogFilter: Sendable {
        /// The client's filter members (address, topics), without any block range.
        var members: [(key: String, value: ByteBuffer)]
        var subscribers: Int
    }

    struct State: Sendable {
        var subscriptions: [String: Subscription] = [:]
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
        let id = Self.newID()
        state.withLock { state in
            state.subscriptions[id] = Subscription(kind: kind, sink: sink)
            if case .logs(let key) = kind, let filter {
                state.filters[key, default: filter].subscribers += 1
            }
        }
        return .success(id)
    }

    /// `eth_unsubscribe`: whether `id` was a subscription of this sink's (now gone).
    public func unsubscribe(_ id: String, sink: any SubscriptionSink) -> Bool {
        state.withLock { state in
            guard let subscription = state.subscriptions[id], subscription.sink === sink else { return false }
            state.remove(id)
            return true
        }
    }

    /// Drops every subscription of a closed connection.
    public func drop(_ sink: any SubscriptionSink) {
        state.withLock { state in
            for (id, subscription) in state.subscriptions where subscription.sink === sink { state.remove(id) }
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

    /// 16 random bytes as `0x` + 32 hex digits, like a node's subscription ids.
    static func newID() -> String {
        var generator = SystemRandomNumberGenerator()
        let high = generator.next() as UInt64
        let low = generator.next() as UInt64
        return "0x" + String(high, radix: 16).leftPadded(to: 16) + String(low, radix: 16).leftPadded(to: 16)
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
            var heads = false
            var pending = false
            for subscription in state.subscriptions.values {
                switch subscription.kind {
                case .newHeads, .logs: heads = true
                case .newPendingTransactions: pending = true
                }
            }
            if !heads { state.lastBlock = nil }
            if !pending { state.pendingFilter = nil }
            return (heads, pending)
        }
        if heads { await followHeads() }
        if pending { await pollPendingTransactions() }
    }

    /// Delivers each batch's results, in order, to the subscriptions of its kind, from one
    /// snapshot of the subscriptions; sinks whose buffer is full lose their subscriptions (their
    /// connection closes itself).
    func publish(_ batches: [(kind: Kind, results: [ByteBuffer])]) {
        let targets = state.withLock { state in state.subscriptions.map { (id: $0.key, kind: $0.value.kind, sink: $0.value.sink) } }
        var overflowed: [ObjectIdentifier: any SubscriptionSink] = [:]
        for batch in batches where !batch.results.isEmpty {
            for target in targets where target.kind == batch.kind && overflowed[ObjectIdentifier(target.sink)] == nil {
                for result in batch.results where !target.sink.deliver(Self.notification(target.id, result)) {
                    overflowed[ObjectIdentifier(target.sink)] = target.sink
                    break
                }
            }
        }
        for sink in overflowed.values { drop(sink) }
    }

    /// `{"jsonrpc":"2.0","method":"eth_subscription","params":{"subscription":ID,"result":RESULT}}`
    static func notification(_ id: String, _ result: ByteBuffer) -> ByteBuffer {
        var output = ByteBuffer()
        output.writeStaticString(#"{"jsonrpc":"2.0","method":"eth_subscription","params":{"subscription":""#)
        output.writeString(id)
        output.writeStaticString(#"","result":"#)
        output.writeImmutableBuffer(result)
        output.writeStaticString("}}")
        return output
    }
}

extension SubscriptionHub.State {
    mutating func remove(_ id: String) {
        guard let subscription = subscriptions.removeValue(forKey: id) else { return }
        if case .logs(let key) = subscription.kind, var filter = filters[key] {
            filter.subscribers -= 1
            filters[key] = filter.subscribers > 0 ? filter : nil
        }
    }
}
