import JSONRPC

/// `eth_blockNumber` never goes backwards for the gateway's clients: an upstream that answers
/// below the highest head the gateway has seen (it is a block or two behind another one) gets its
/// answer raised to that head, which some upstream has. Only when a health round finds the whole
/// network more than `max_lag` below it (a reorg deeper than any lag, a chain reset) does the
/// gateway follow the chain down (see ``NetworkRouter/apply(_:at:)``).
extension NetworkRouter {
    func consistentBlockNumber(_ response: JSONRPCResponse, from handle: UpstreamHandle) -> JSONRPCResponse? {
        guard let text = response.resultString, let number = Hex.uint64(text) else { return nil }
        observe(head: number, from: handle)
        let known = observedHead.load(ordering: .relaxed)
        guard number < known else { return nil }
        return JSONRPCResponse.result(#""\#(Hex.quantity(known))""#, replacing: response)
    }
}
