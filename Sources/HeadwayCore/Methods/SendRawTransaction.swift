import JSONRPC
import NIOCore

/// `eth_sendRawTransaction`: sent to one upstream at a time (healthy primaries first), retried on
/// another when it fails, never fanned out. A node that answers "already known" (or "known
/// transaction", "nonce too low", see ``mayBeKnown(_:)``) may be telling that an earlier attempt, or another node through
/// gossip, already has this very transaction: Headway looks it up by its hash
/// (`eth_getTransactionByHash`) and, when it is there, answers with the hash as a node would
/// have the first time.
extension NetworkRouter {
    func sendRawTransaction(_ request: JSONRPCRequest) async -> ForwardOutcome {
        let candidates = candidates(for: .none)
        guard !candidates.isEmpty else {
            return .unavailable(reason: "no healthy upstream in network \(name)", attempts: 0)
        }
        let hash = request.params.flatMap { BlockRequirement.element(0, of: $0.bytes) }.flatMap { value -> String? in
            guard case .string(let raw) = value, let bytes = Hex.bytes(raw) else { return nil }
            return Keccak256.hex(bytes)
        }
        let (outcome, answeredBy) = await attempt(request, on: candidates, methodClass: .rawTransaction, requirement: .none)
        guard case .answered(let response, let upstream, let attempts) = outcome, let answeredBy, let error = response.error, let hash,
            Self.mayBeKnown(error)
        else {
            return outcome
        }
        // Verify on the upstream that answered, then on the others.
        let order = [answeredBy] + candidates.filter { $0 !== answeredBy }
        for handle in order.prefix(3) where await isKnown(hash, on: handle) {
            logger.debug(
                "raw transaction already known; answering with its hash",
                metadata: ["network": "\(name)", "upstream": "\(handle.name)", "hash": "\(hash)", "error": "\(error.message)"])
            if let success = JSONRPCResponse.result(#""\#(hash)""#, replacing: response) {
                return .answered(success, upstream: upstream, attempts: attempts)
            }
        }
        return outcome
    }

    /// Wordings of "this transaction (or its nonce) is already there", across clients: geth, reth
    /// and erigon ("already known", "nonce too low"), Besu ("known transaction"), Nethermind
    /// ("AlreadyKnown", "OldNonce"), py-evm ("Invalid transaction nonce: Expected 6, but got 5").
    /// Only a hint: the hash lookup that follows decides.
    static let knownWordings = [
        "already known", "alreadyknown", "known transaction", "nonce too low", "oldnonce", "invalid transaction nonce",
        "already imported", "already exists",
    ]

    static func mayBeKnown(_ error: JSONRPCError) -> Bool {
        let message = error.message.lowercased()
        return knownWordings.contains { message.contains($0) }
    }

    /// Whether `handle` has the transaction `hash` (in its pool or mined).
    func isKnown(_ hash: String, on handle: UpstreamHandle) async -> Bool {
        let probe = JSONRPCRequest(id: 1, method: "eth_getTransactionByHash", params: "[\(JSONString.quoted(hash))]")
        guard let body = try? await handle.transport.send(probe.body, timeout: config.request.attemptTimeout),
            let response = JSONRPCResponse(scanning: body), let result = response.result
        else { return false }
        return result.description.lowercased().contains(hash.lowercased())
    }
}
