/// What one health round learned about one upstream.
public enum ProbeOutcome: Sendable, Equatable {
    /// Answered on the right chain.
    case answered(head: UInt64, syncing: Bool, latency: Duration)
    /// `eth_chainId` reported another chain.
    case wrongChain(reported: UInt64)
    /// A probe failed; `reason` is shown to operators (already redacted).
    case unreachable(reason: String)
}
