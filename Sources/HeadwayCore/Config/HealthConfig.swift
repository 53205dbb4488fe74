/// `networks.NAME.health`: how often and how strictly upstreams are probed.
public struct HealthConfig: Sendable, Equatable {
    /// `interval` (duration, default 5s): time between health rounds.
    public var interval: Duration = .seconds(5)
    /// `timeout` (duration, default 2s): how long one upstream may take to answer a round's probes.
    public var timeout: Duration = .seconds(2)
    /// `max_lag` (integer, default 10): blocks an upstream may be behind the network head and stay healthy.
    public var maxLag: UInt64 = 10
    /// `recover_after` (integer, default 2): consecutive good rounds before an upstream that left
    /// rotation comes back.
    public var recoverAfter: Int = 2
    /// `max_concurrent_probes` (integer, default 128): upstreams probed at the same time in a
    /// round; the rest wait for a free slot (a network of 1,000 upstreams does not open 3,000
    /// requests at once).
    public var maxConcurrentProbes: Int = 128

    public init() {}
}

/// `networks.NAME.request`: limits for client requests forwarded to upstreams.
public struct RequestConfig: Sendable, Equatable {
    /// `attempt_timeout` (duration, default 5s): how long one upstream may take to answer one request.
    public var attemptTimeout: Duration = .seconds(5)
    /// `deadline` (duration, default 15s): total time for a request, all attempts together.
    public var deadline: Duration = .seconds(15)
    /// `max_attempts` (integer, default 3): upstreams tried for one request (hedges included).
    public var maxAttempts = 3
    /// `retry_on`: node-side errors retried on another upstream.
    public var retryOn = RetryableErrors()
    /// `hedge`: a second attempt when the first is slow.
    public var hedge = HedgeConfig()
    /// `breaker`: the per-upstream circuit breaker fed by live requests.
    public var breaker = CircuitBreaker.Config()

    public init() {}
}

/// `networks.NAME.subscriptions`: how Headway follows the chain for `eth_subscribe`.
public struct SubscriptionConfig: Sendable, Equatable {
    /// `poll_interval` (duration, default 1s): how often the head (and pending transactions) is
    /// polled while someone is subscribed.
    public var pollInterval: Duration = .seconds(1)
    /// `max_blocks_per_poll` (integer, default 128): blocks emitted in one poll when the stream
    /// has fallen behind (the rest follow in the next polls).
    public var maxBlocksPerPoll = 128

    public init() {}
}
