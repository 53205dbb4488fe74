import Foundation

/// The health state machine of one network: pure, no I/O, time passed in.
///
/// Each round's outcomes go in; states, rotation and the network head come out. An upstream
/// leaves rotation at its first bad round; one that was in rotation before returns after
/// `recoverAfter` consecutive good rounds; a new (or re-enabled) upstream enters at its first
/// good round.
public struct HealthTracker: Sendable {
    public let maxLag: UInt64
    public let recoverAfter: Int
    /// Highest head reported in the latest round that had any right-chain answer.
    public private(set) var networkHead: UInt64?
    public private(set) var upstreams: [String: UpstreamHealth] = [:]

    public init(maxLag: UInt64, recoverAfter: Int) {
        self.maxLag = maxLag
        self.recoverAfter = max(1, recoverAfter)
    }

    /// A state change produced by a round (for logs and alerts).
    public struct Transition: Sendable, Equatable {
        public var upstream: String
        public var from: UpstreamState
        public var to: UpstreamState
        public var inRotation: Bool

        public init(upstream: String, from: UpstreamState, to: UpstreamState, inRotation: Bool) {
            self.upstream = upstream
            self.from = from
            self.to = to
            self.inRotation = inRotation
        }
    }

    public subscript(name: String) -> UpstreamHealth? { upstreams[name] }

    /// Starts tracking `name` (new or re-enabled): unknown, out of rotation.
    public mutating func track(_ name: String, at now: Date) {
        var health = UpstreamHealth()
        health.stateSince = now
        upstreams[name] = health
    }

    /// Restores a persisted picture (after a restart); the upstream stays out of rotation until
    /// it is probed again, but keeps its history so that `recoverAfter` applies.
    public mutating func restore(_ name: String, state: UpstreamState, head: UInt64?, stateSince: Date?) {
        var health = upstreams[name] ?? UpstreamHealth()
        health.state = state == .disabled ? .unknown : state
        health.head = head
        health.stateSince = stateSince
        health.everInRotation = false
        upstreams[name] = health
    }

    public mutating func forget(_ name: String) {
        upstreams[name] = nil
    }

    /// Marks `name` disabled by an operator: out of rotation at once.
    public mutating func disable(_ name: String, at now: Date) {
        var health = upstreams[name] ?? UpstreamHealth()
        if health.state != .disabled { health.stateSince = now }
        health.state = .disabled
        health.inRotation = false
        health.goodStreak = 0
        health.everInRotation = false
        health.needsChainCheck = true
        health.reason = "disabled by an operator"
        upstreams[name] = health
    }

    /// Applies one round. Upstreams absent from `outcomes` (disabled ones) keep their record.
    @discardableResult
    public mutating func apply(_ outcomes: [String: ProbeOutcome], at now: Date) -> [Transition] {
        var roundHead: UInt64?
        for outcome in outcomes.values {
            if case .answered(let head, _, _) = outcome { roundHead = max(roundHead ?? 0, head) }
        }
        if let roundHead { networkHead = roundHead }

        var transitions: [Transition] = []
        for (name, outcome) in outcomes.sorted(by: { $0.key < $1.key }) {
            var health = upstreams[name] ?? UpstreamHealth()
            let before = health.state
            let wasInRotation = health.inRotation
            var good = false
            health.lastChecked = now
            switch outcome {
            case .unreachable(let reason):
                health.state = .unreachable
                health.needsChainCheck = true
                health.lag = nil
                health.latency = nil
                health.reason = reason
            case .wrongChain(let reported):
                health.state = .wrongChain
                health.needsChainCheck = true
                health.lag = nil
                health.reason = "reports chain id \(reported)"
            case .answered(let head, let syncing, let latency):
                health.needsChainCheck = false
                health.head = head
                health.latency = latency
                let lag = (networkHead ?? head) > head ? (networkHead ?? head) - head : 0
                health.lag = lag
                if syncing {
                    health.state = .syncing
                    health.reason = "eth_syncing is not false"
                } else if lag > maxLag {
                    health.state = .lagging
                    health.reason = "\(lag) blocks behind the network head (max_lag \(maxLag))"
                } else {
                    health.state = .healthy
                    health.reason = nil
                    good = true
                }
            }
            if good {
                health.goodStreak += 1
                if !health.inRotation && (!health.everInRotation || health.goodStreak >= recoverAfter) {
                    health.inRotation = true
                    health.everInRotation = true
                }
            } else {
                health.goodStreak = 0
                health.inRotation = false
            }
            if before != health.state { health.stateSince = now }
            if before != health.state || wasInRotation != health.inRotation {
                transitions.append(Transition(upstream: name, from: before, to: health.state, inRotation: health.inRotation))
            }
            upstreams[name] = health
        }
        return transitions
    }
}
