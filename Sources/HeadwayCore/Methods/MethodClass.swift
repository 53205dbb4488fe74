/// How the gateway treats a method: whether it may be retried and hedged, and where it may go.
/// The table is ``MethodClass/of(_:)``; `docs/methods.md` copies it.
public enum MethodClass: Sendable, Equatable {
    /// Known reads: retried and hedged freely (including on node-side "cannot answer this now" errors).
    case read
    /// `eth_sendRawTransaction`: sent to one upstream at a time; retried elsewhere on failure (the
    /// signed bytes are the same); "already known" answers are verified and turned into success.
    case rawTransaction
    /// Effects that must not happen twice (`eth_sendTransaction`, `eth_sign*`, `personal_*`, ...):
    /// never sent again once they may have reached a node.
    case nonIdempotent
    /// `eth_newFilter`, `eth_newBlockFilter`, `eth_newPendingTransactionFilter`: a read whose
    /// answer (the filter id) is rewritten so that later calls find the creating upstream.
    case filterCreate
    /// `eth_getFilterChanges`, `eth_getFilterLogs`, `eth_uninstallFilter`: go to the upstream that
    /// created the filter, and only there.
    case filterUse
    /// `eth_subscribe`, `eth_unsubscribe`: forwarded once (over HTTP a node answers with its error).
    case subscription
    /// Anything else: forwarded as a read, retried on transport failures only (a JSON-RPC error
    /// is the answer).
    case unknown

    public static func of(_ method: String) -> MethodClass {
        if let known = table[method] { return known }
        if method.hasPrefix("personal_") || method.hasPrefix("eth_sign") { return .nonIdempotent }
        return .unknown
    }

    /// Whether a failure before any usable answer may be retried on another upstream.
    public func retriesAfterDelivery() -> Bool {
        switch self {
        case .nonIdempotent, .subscription, .filterUse: false
        case .read, .rawTransaction, .filterCreate, .unknown: true
        }
    }

    /// Whether a node-side JSON-RPC error of the retryable kind may be retried elsewhere.
    public var retriesNodeErrors: Bool {
        switch self {
        case .read, .filterCreate: true
        case .rawTransaction, .nonIdempotent, .filterUse, .subscription, .unknown: false
        }
    }

    /// Whether a second attempt may start while the first is still running.
    public var hedges: Bool { self == .read }

    static let table: [String: MethodClass] = {
        var table: [String: MethodClass] = [:]
        for method in reads { table[method] = .read }
        for method in ["eth_newFilter", "eth_newBlockFilter", "eth_newPendingTransactionFilter"] { table[method] = .filterCreate }
        for method in ["eth_getFilterChanges", "eth_getFilterLogs", "eth_uninstallFilter"] { table[method] = .filterUse }
        for method in ["eth_subscribe", "eth_unsubscribe"] { table[method] = .subscription }
        table["eth_sendRawTransaction"] = .rawTransaction
        for method in ["eth_sendTransaction", "eth_sign", "eth_signTransaction", "eth_signTypedData", "eth_signTypedData_v3", "eth_signTypedData_v4"] {
            table[method] = .nonIdempotent
        }
        return table
    }()

    static let reads: [String] = [
        "eth_blockNumber", "eth_call", "eth_chainId", "eth_estimateGas", "eth_feeHistory", "eth_gasPrice", "eth_getBalance",
        "eth_getBlockByHash", "eth_getBlockByNumber", "eth_getBlockReceipts", "eth_getBlockTransactionCountByHash",
        "eth_getBlockTransactionCountByNumber", "eth_getCode", "eth_getLogs", "eth_getProof", "eth_getStorageAt",
        "eth_getTransactionByBlockHashAndIndex", "eth_getTransactionByBlockNumberAndIndex", "eth_getTransactionByHash",
        "eth_getTransactionCount", "eth_getTransactionReceipt", "eth_getUncleByBlockHashAndIndex",
        "eth_getUncleByBlockNumberAndIndex", "eth_getUncleCountByBlockHash", "eth_getUncleCountByBlockNumber",
        "eth_maxPriorityFeePerGas", "eth_blobBaseFee", "eth_protocolVersion", "eth_syncing", "eth_accounts", "eth_coinbase",
        "eth_mining", "eth_hashrate", "eth_createAccessList", "eth_simulateV1", "eth_getHeaderByNumber", "eth_getHeaderByHash",
        "net_version", "net_listening", "net_peerCount", "web3_clientVersion", "web3_sha3",
    ]
}
