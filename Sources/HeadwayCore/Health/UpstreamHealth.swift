import Foundation

/// The health an upstream has after the latest round: what the admin API shows and routing reads.
public struct UpstreamHealth: Sendable, Equatable {
    public var state: UpstreamState = .unknown
    /// Whether routing may send client traffic to it.
    public var inRotation = false
    /// Whether the upstream ever was in rotation (a new upstream enters at its first good round;
    /// one that left needs `recover_after` good rounds).
    public var everInRotation = false
    /// Consecutive good rounds since the last bad one.
    public var goodStreak = 0
    /// Whether the next round must (re)check `eth_chainId`.
    public var needsChainCheck = true
    public var head: UInt64?
    public var lag: UInt64?
    public var latency: Duration?
    public var lastChecked: Date?
    public var stateSince: Date?
    /// Why the upstream is not healthy, when it is not (redacted).
    public var reason: String?

    public init() {}
}
