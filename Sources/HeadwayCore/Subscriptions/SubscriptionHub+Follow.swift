import JSONRPC
import NIOCore

/// Following the head: each new block's header goes to `newHeads`, then its logs to `logs`.
extension SubscriptionHub {
    /// Members of a block that a `newHeads` header leaves out (what geth's header JSON has not).
    static let bodyOnlyMembers: Set<String> = ["transactions", "uncles", "size", "totalDifficulty", "withdrawals"]

    /// Emits every block after the last one emitted up to the gateway's head, in order. A block
    /// whose header or logs cannot be had now stops the walk; the next poll starts from it again,
    /// so nothing is skipped and nothing is sent twice.
    func followHeads() async {
        guard let latest = await blockNumber() else { return }
        let start: UInt64? = state.withLock { state in
            guard let last = state.lastBlock else {
                // First follower: the stream starts with the next block.
                state.lastBlock = latest
                return nil
            }
            return last + 1
        }
        guard let start, start <= latest else { return }
        let end = min(latest, start + UInt64(router.config.subscriptions.maxBlocksPerPoll) - 1)
        for number in start...end {
            guard !Task.isCancelled, await emit(block: number) else { return }
        }
    }

    /// Fetches block `number`'s header and, for every log filter in use, its logs; sends them out
    /// and records the block as emitted. False when something could not be had.
    func emit(block number: UInt64) async -> Bool {
        guard let block = await call("eth_getBlockByNumber", #"["\#(Hex.quantity(number))",false]"#),
            let members = JSONMembers.object(block), let hash = JSONMembers.string("hash", in: members)
        else { return false }
        let header = JSONMembers.encode(members.filter { !Self.bodyOnlyMembers.contains($0.key) })
        let filters = state.withLock { $0.filters.map { ($0.key, $0.value.members) } }
        var logs: [String: [ByteBuffer]] = [:]
        for (key, filter) in filters {
            let range: [(key: String, value: ByteBuffer)] = [
                ("fromBlock", ByteBuffer(string: #""\#(Hex.quantity(number))""#)),
                ("toBlock", ByteBuffer(string: #""\#(Hex.quantity(number))""#)),
            ]
            let params = "[" + String(buffer: JSONMembers.encode(filter + range)) + "]"
            guard let result = await call("eth_getLogs", params), let entries = JSONMembers.array(result) else { return false }
            // Logs of another block with that number (a reorg between the two calls): try again.
            for entry in entries {
                guard let log = JSONMembers.object(entry), JSONMembers.string("blockHash", in: log)?.lowercased() == hash.lowercased() else {
                    return false
                }
            }
            logs[key] = entries
        }
        let proceed = state.withLock { state -> Bool in
            guard state.lastBlock == number - 1 else { return false }
            state.lastBlock = number
            return true
        }
        guard proceed else { return false }
        publish([(.newHeads, [header])] + logs.map { (.logs(filterKey: $0.key), $0.value) })
        return true
    }

    /// The gateway's view of the head (never going backwards; see `consistentBlockNumber`).
    func blockNumber() async -> UInt64? {
        guard let result = await call("eth_blockNumber", "[]"), let text = JSONMembers.stringValue(result) else { return nil }
        return Hex.uint64(text)
    }

    /// New pending transactions, from one filter the gateway keeps on an upstream (made again
    /// when that upstream goes away).
    func pollPendingTransactions() async {
        var filter = state.withLock { $0.pendingFilter }
        if filter == nil {
            guard let created = await call("eth_newPendingTransactionFilter", "[]"), let id = JSONMembers.stringValue(created) else { return }
            state.withLock { $0.pendingFilter = id }
            filter = id
        }
        guard let filter else { return }
        guard let changes = await call("eth_getFilterChanges", "[\(JSONString.quoted(filter))]"), let hashes = JSONMembers.array(changes) else {
            state.withLock { if $0.pendingFilter == filter { $0.pendingFilter = nil } }
            return
        }
        publish([(.newPendingTransactions, hashes)])
    }

    /// Sends a request through the network's routing (retries, hedging, consistency); the raw
    /// `result`, or nil for an error, a `null` result or no answer.
    func call(_ method: String, _ params: String) async -> ByteBuffer? {
        let outcome = await router.forward(JSONRPCRequest(id: 1, method: method, params: params))
        guard case .answered(let response, _, _) = outcome, response.error == nil, let result = response.result,
            response.resultKind != .null
        else {
            logger.debug("subscription poll got no answer", metadata: ["network": "\(router.name)", "method": "\(method)"])
            return nil
        }
        return result.bytes
    }
}
