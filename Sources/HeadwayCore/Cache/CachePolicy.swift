import JSONRPC
import NIOCore

/// Which answers cannot change, and so may be cached: the chain's id, blocks and what is read
/// by a block hash, and blocks, receipts and logs at least `finality_depth` below the network
/// head. Never anything by `latest`, `pending`, `safe` or `finalized`, never an error and never
/// `null` (not known yet is not an answer for ever).
enum CachePolicy {
    enum Rule: Equatable {
        /// Whatever the chain, once answered (the chain id; anything addressed by block hash).
        case always
        /// Cached when block `number` is final.
        case finalBlock(UInt64)
        /// Cached when the result's own `blockNumber` is final (a transaction by hash, a receipt).
        case finalResult
    }

    /// The rule for a request, or nil when its answer may change; `requirement` is the request's
    /// block requirement when the caller has it already.
    static func rule(method: String, params: RawJSON?, requirement: BlockRequirement? = nil) -> Rule? {
        switch method {
        case "eth_chainId", "net_version", "eth_getBlockByHash", "eth_getBlockTransactionCountByHash",
            "eth_getTransactionByBlockHashAndIndex", "eth_getUncleByBlockHashAndIndex", "eth_getUncleCountByBlockHash":
            return .always
        case "eth_getTransactionByHash", "eth_getTransactionReceipt":
            return .finalResult
        case "eth_getBlockByNumber", "eth_getBlockTransactionCountByNumber", "eth_getTransactionByBlockNumberAndIndex",
            "eth_getBlockReceipts", "eth_getUncleByBlockNumberAndIndex", "eth_getUncleCountByBlockNumber", "eth_getLogs":
            switch requirement ?? BlockRequirement.of(method: method, params: params) {
            case .number(let number): return .finalBlock(number)
            // eth_getLogs by blockHash; a by-number method whose block is given by hash (EIP-1898).
            case .none: return params == nil ? nil : .always
            case .head: return nil
            }
        default:
            return nil
        }
    }

    /// Whether block `number` is final with the network at `head`.
    static func isFinal(_ number: UInt64, head: UInt64?, depth: UInt64) -> Bool {
        guard let head, head >= depth else { return false }
        return number <= head - depth
    }

    /// Whether `response`, answering a request under `rule`, may be kept.
    static func accepts(_ response: JSONRPCResponse, rule: Rule, head: UInt64?, depth: UInt64) -> Bool {
        guard response.error == nil, let result = response.result, response.resultKind != .null else { return false }
        switch rule {
        case .always:
            return true
        case .finalBlock(let number):
            return isFinal(number, head: head, depth: depth)
        case .finalResult:
            guard let members = JSONMembers.object(result.bytes), let text = JSONMembers.string("blockNumber", in: members),
                let number = Hex.uint64(text)
            else { return false }
            return isFinal(number, head: head, depth: depth)
        }
    }
}
