import JSONRPC
import NIOCore

/// Filters live on the node that created them. Headway answers `eth_new*Filter` with the node's
/// filter id prefixed by the creating upstream's 8-hex-digit tag, and routes
/// `eth_getFilterChanges`, `eth_getFilterLogs` and `eth_uninstallFilter` back to that upstream with
/// the node's own id. Stateless: it survives restarts and works on every gateway instance.
extension NetworkRouter {
    /// The creation answer with the tagged filter id.
    func tagFilterID(_ response: JSONRPCResponse, owner: UpstreamHandle) -> JSONRPCResponse? {
        guard let id = response.resultString, id.hasPrefix("0x") else { return nil }
        return JSONRPCResponse.result(#""0x\#(owner.filterTag)\#(id.dropFirst(2))""#, replacing: response)
    }

    /// Sends a filter call to the upstream that created the filter, and only there.
    func forwardToFilterOwner(_ request: JSONRPCRequest) async -> ForwardOutcome {
        guard let params = request.params, case .string(let tagged)? = BlockRequirement.element(0, of: params.bytes),
            tagged.hasPrefix("0x"), tagged.count > 10
        else {
            return .answered(Self.filterNotFound(request), upstream: "", attempts: 0)
        }
        let tag = tagged.dropFirst(2).prefix(8)
        guard let handle = handle(withFilterTag: tag) else {
            return .answered(Self.filterNotFound(request), upstream: "", attempts: 0)
        }
        let nodeID = "0x" + tagged.dropFirst(10)
        let id = request.id?.description ?? "null"
        let body = #"{"jsonrpc":"2.0","id":\#(id),"method":\#(JSONString.quoted(request.method)),"params":[\#(JSONString.quoted(nodeID))]}"#
        let rewritten = JSONRPCRequest(id: request.id, method: request.method, params: nil, body: ByteBuffer(string: body))
        let timeout = min(config.request.attemptTimeout, config.request.deadline)
        switch await attempt(rewritten, on: handle, timeout: timeout, methodClass: .filterUse, requirement: .none) {
        case .answer(let response, _), .nodeError(let response, _, _):
            return .answered(response, upstream: handle.name, attempts: 1)
        case .delivered:
            return .delivered(upstream: handle.name, attempts: 1)
        case .failed, .timer:
            // The node that held the filter cannot be reached: the filter is gone with it.
            return .answered(Self.filterNotFound(request), upstream: handle.name, attempts: 1)
        }
    }

    static func filterNotFound(_ request: JSONRPCRequest) -> JSONRPCResponse {
        JSONRPCResponse(scanning: JSONRPCError(code: -32000, message: "filter not found").response(id: request.id ?? .null))!
    }
}
