import JSONRPC

/// `eth_blockNumber` never goes backwards for the gateway's clients: an upstream that answers
/// below what the gateway already answered (it is a block or two behind the one asked before)
/// gets its answer raised to that number, unless the difference exceeds `max_lag` (then the chain
/// itself went back, a reorg deeper than any lag, and the lower number is passed on).
extension NetworkRouter {
    func consistentBlockNumber(_ response: JSONRPCResponse, upstream: String) -> JSONRPCResponse? {
        guard let text = response.resultString, let number = Hex.uint64(text) else { return nil }
        if let handle = handleNamed(upstream) { observe(head: number, from: handle) }
        var served = servedBlockNumber.load(ordering: .relaxed)
        while true {
            if number >= served {
                let (exchanged, original) = servedBlockNumber.compareExchange(expected: served, desired: number, ordering: .relaxed)
                if exchanged { return nil }
                served = original
                continue
            }
            if served - number > config.health.maxLag {
                servedBlockNumber.store(number, ordering: .relaxed)
                return nil
            }
            return JSONRPCResponse.result(#""\#(Hex.quantity(served))""#, replacing: response)
        }
    }
}
