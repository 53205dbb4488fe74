/// The health state of an upstream, as shown by the admin API and the status page.
public enum UpstreamState: String, Sendable, Codable, CaseIterable {
    /// Reachable, right chain, not syncing, within `max_lag` of the network head.
    case healthy
    /// More than `max_lag` blocks behind the network head.
    case lagging
    /// `eth_syncing` did not answer `false`.
    case syncing
    /// A probe failed or timed out.
    case unreachable
    /// `eth_chainId` differs from the network's `chain_id`.
    case wrongChain = "wrong_chain"
    /// Taken out by an operator.
    case disabled
    /// Not probed yet.
    case unknown
}
