/// Passive health of one upstream, fed by live requests: a pure state machine, time passed in.
///
/// Closed, it lets everything through and counts outcomes. It opens after `failureThreshold`
/// consecutive failures, or when at least half of the last `window` requests failed (with a full
/// window). Open, it refuses everything for `cooldown`; then it lets exactly one request through
/// (half-open): success closes it, failure opens it again for another cooldown. The breaker
/// knows nothing about which errors count as failures: callers decide (see ``FailureClassifier``).
public struct CircuitBreaker: Sendable, Equatable {
    public enum State: String, Sendable, Equatable {
        case closed
        case open
        case halfOpen = "half_open"
    }

    public struct Config: Sendable, Equatable {
        /// `failures` (integer, default 5): consecutive failures that open the breaker.
        public var failureThreshold = 5
        /// `failure_rate` (0–1, default 0.5): share of failures in the last `window` requests
        /// that opens the breaker.
        public var failureRate = 0.5
        /// `window` (integer, default 20): how many recent requests the rate looks at (≤ 64).
        public var window = 20
        /// `cooldown` (duration, default 10s): how long an open breaker refuses requests.
        public var cooldown: Duration = .seconds(10)

        public init() {}
    }

    public let config: Config
    public private(set) var state = State.closed
    public private(set) var consecutiveFailures = 0
    /// Outcomes of the last requests, newest in bit 0 (1 = failure).
    var history: UInt64 = 0
    var recorded = 0
    var openedAt: ContinuousClock.Instant?
    var probeInFlight = false

    public init(config: Config = Config()) {
        self.config = config
    }

    /// Whether a request may go to the upstream now. In half-open state only one may: this call
    /// takes the probe slot.
    public mutating func allow(at now: ContinuousClock.Instant) -> Bool {
        switch state {
        case .closed:
            return true
        case .open:
            guard let openedAt, openedAt.duration(to: now) >= config.cooldown else { return false }
            state = .halfOpen
            probeInFlight = true
            return true
        case .halfOpen:
            if probeInFlight { return false }
            probeInFlight = true
            return true
        }
    }

    /// Whether a request would be allowed now, without taking the probe slot (for routing order).
    public func wouldAllow(at now: ContinuousClock.Instant) -> Bool {
        switch state {
        case .closed: true
        case .open: openedAt.map { $0.duration(to: now) >= config.cooldown } ?? true
        case .halfOpen: !probeInFlight
        }
    }

    public mutating func recordSuccess() {
        consecutiveFailures = 0
        push(failure: false)
        if state != .closed {
            state = .closed
            probeInFlight = false
            history = 0
            recorded = 0
        }
    }

    public mutating func recordFailure(at now: ContinuousClock.Instant) {
        consecutiveFailures += 1
        push(failure: true)
        switch state {
        case .halfOpen:
            open(at: now)
        case .open:
            break
        case .closed:
            let window = min(max(config.window, 1), 64)
            let failuresInWindow = (history & (window == 64 ? .max : (UInt64(1) << window) - 1)).nonzeroBitCount
            let rateTripped = recorded >= window && Double(failuresInWindow) >= config.failureRate * Double(window)
            if consecutiveFailures >= config.failureThreshold || rateTripped { open(at: now) }
        }
    }

    /// Back to closed with a clean history (the upstream was readmitted by health rounds).
    public mutating func reset() {
        self = CircuitBreaker(config: config)
    }

    /// A request that took the probe slot ended without telling success or failure (cancelled).
    public mutating func releaseProbe() {
        if state == .halfOpen { probeInFlight = false }
    }

    mutating func open(at now: ContinuousClock.Instant) {
        state = .open
        openedAt = now
        probeInFlight = false
    }

    mutating func push(failure: Bool) {
        history = history << 1 | (failure ? 1 : 0)
        recorded = min(recorded + 1, 64)
    }
}
