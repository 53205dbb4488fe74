/// `networks.NAME.cache`: the response cache for results that cannot change.
public struct CacheConfig: Sendable, Equatable {
    /// `enabled` (boolean, default true).
    public var enabled = true
    /// `max_bytes` (integer, default 67108864): the cached responses' bytes; the least recently
    /// used go first.
    public var maxBytes = 64 << 20
    /// `finality_depth` (integer, default 64): blocks at least this far below the network head
    /// are taken as final; answers about them (blocks by number, receipts, logs) are cached.
    public var finalityDepth: UInt64 = 64

    public init() {}
}
