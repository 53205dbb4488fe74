import NIOCore
import Synchronization

/// A live upstream in a network: its fixed identity, its transport, and what the request path
/// learns about it (outstanding requests, recent latency, the head it reported, its circuit
/// breaker). Health rounds live in ``HealthTracker``.
public final class UpstreamHandle: Sendable {
    public let name: String
    public let role: UpstreamRole
    /// The URL with secrets redacted, for logs and the API.
    public let redactedURL: String
    public let transport: any UpstreamTransport
    /// 8 hex digits derived from the name: prefixes the ids of filters created on this upstream.
    public let filterTag: String
    let outstandingCount = Atomic<Int>(0)
    /// Exponentially weighted mean and mean deviation of recent latency, microseconds.
    let latencyMicros = Atomic<Int>(0)
    let latencyDeviationMicros = Atomic<Int>(0)
    /// The latest head known for it (health rounds set it; `eth_blockNumber` answers raise it).
    let headBlock = Atomic<UInt64>(0)
    /// Set when a client request failed on this upstream, cleared by its next success: such an
    /// upstream is tried after the others until the next health round decides about it.
    let failedRecently = Atomic<Bool>(false)
    let breaker: Mutex<CircuitBreaker>
    /// The upstream's WebSocket `newHeads` feed (only for upstreams with a `ws` URL).
    let pushFeed = Mutex(PushFeedState.none)

    public init(definition: UpstreamDefinition, transport: any UpstreamTransport, breaker: CircuitBreaker.Config = .init()) {
        self.name = definition.name
        self.role = definition.role
        self.redactedURL = URLRedactor.redact(definition.url)
        self.transport = transport
        self.filterTag = Self.tag(for: definition.name)
        self.breaker = Mutex(CircuitBreaker(config: breaker))
    }

    public var outstanding: Int { outstandingCount.load(ordering: .relaxed) }
    public var recentLatency: Duration { .microseconds(latencyMicros.load(ordering: .relaxed)) }
    /// A high quantile of recent latency, estimated as mean + 3 mean deviations.
    public var slowLatency: Duration {
        .microseconds(latencyMicros.load(ordering: .relaxed) + 3 * latencyDeviationMicros.load(ordering: .relaxed))
    }
    /// The latest head known for this upstream (0 when unknown).
    public var head: UInt64 { headBlock.load(ordering: .relaxed) }
    public var breakerState: CircuitBreaker.State { breaker.withLock { $0.state } }

    /// Whether the latest client request on this upstream failed.
    public var isSuspect: Bool { failedRecently.load(ordering: .relaxed) }

    /// Sends through the transport, keeping the outstanding count and the latency statistics.
    /// A cancelled send (a hedge that lost) counts as neither success nor failure.
    func send(_ body: ByteBuffer, timeout: Duration) async throws(UpstreamFailure) -> ByteBuffer {
        let start = began()
        do {
            let response = try await transport.send(body, timeout: timeout)
            ended(start, succeeded: true)
            return response
        } catch {
            ended(start, succeeded: false, cancelled: Task.isCancelled)
            throw error
        }
    }

    /// A send starts: one more outstanding. (``send(_:timeout:)`` brackets its send with this and
    /// ``ended(_:succeeded:cancelled:)``; a send from an event loop calls both itself, in the one
    /// callback it has on the answer.)
    func began() -> ContinuousClock.Instant {
        outstandingCount.add(1, ordering: .relaxed)
        return .now
    }

    /// A send that began at `start` ended: its latency counts when it succeeded, a failure makes
    /// the upstream suspect (not a cancelled one: a hedge that lost).
    func ended(_ start: ContinuousClock.Instant, succeeded: Bool, cancelled: Bool = false) {
        outstandingCount.subtract(1, ordering: .relaxed)
        if succeeded {
            record(latency: start.duration(to: .now))
        } else if !cancelled {
            failedRecently.store(true, ordering: .relaxed)
        }
    }

    /// Sets the head a health round reported (it may go down after a reorg).
    func setHead(_ head: UInt64) {
        headBlock.store(head, ordering: .relaxed)
    }

    /// Clears the suspicion (after a good health round or a good answer).
    func clearSuspicion() {
        if failedRecently.load(ordering: .relaxed) { failedRecently.store(false, ordering: .relaxed) }
    }

    func record(latency: Duration) {
        clearSuspicion()
        let micros = Int(latency.components.seconds) * 1_000_000 + Int(latency.components.attoseconds / 1_000_000_000_000)
        let mean = latencyMicros.load(ordering: .relaxed)
        if mean == 0 {
            latencyMicros.store(micros, ordering: .relaxed)
            latencyDeviationMicros.store(micros / 2, ordering: .relaxed)
            return
        }
        let deviation = latencyDeviationMicros.load(ordering: .relaxed)
        latencyMicros.store((mean * 7 + micros) / 8, ordering: .relaxed)
        latencyDeviationMicros.store((deviation * 3 + abs(micros - mean)) / 4, ordering: .relaxed)
    }

    /// FNV-1a of the name, as 8 hex digits.
    static func tag(for name: String) -> String {
        var hash: UInt32 = 2_166_136_261
        for byte in name.utf8 {
            hash ^= UInt32(byte)
            hash = hash &* 16_777_619
        }
        return String(hash, radix: 16).leftPadded(to: 8)
    }
}

/// The state of an upstream's WebSocket `newHeads` feed, as the admin API shows it (`ws_state`).
public enum PushFeedState: String, Sendable {
    /// No `ws` URL.
    case none
    case connecting
    /// Subscribed: pushed heads wake the subscription hub.
    case subscribed
    /// Lost; reconnecting with backoff.
    case disconnected
}

extension UpstreamHandle {
    public var pushFeedState: PushFeedState { pushFeed.withLock { $0 } }

    public func setPushFeedState(_ state: PushFeedState) {
        pushFeed.withLock { $0 = state }
    }
}
