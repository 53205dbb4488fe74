import HeadwayCore
import HeadwayTesting
import JSONRPC
import Testing

@Suite struct SendRawTransactionTests {
    /// Any bytes do: the hash is their Keccak-256.
    let raw = "0x02f86b0180843b9aca00850218711a00825208947e5f4552091a69125d5dfcb7b8c2659029395bdf8080c0"
    var hash: String { Keccak256.hex(Hex.bytes(raw)!) }

    /// A node that already has the transaction: "already known" to sends, found by hash.
    func knowing(_ name: String, message: String = "already known") -> ScriptedTransport.Script {
        let hash = self.hash
        return { method, body throws(UpstreamFailure) in
            let id = ScriptedTransport.id(in: body)
            switch method {
            case "eth_sendRawTransaction":
                return #"{"jsonrpc":"2.0","id":\#(id),"error":{"code":-32000,"message":"\#(message)"}}"#
            case "eth_getTransactionByHash":
                return #"{"jsonrpc":"2.0","id":\#(id),"result":{"hash":"\#(hash)","nonce":"0x0"}}"#
            default:
                return try await ScriptedTransport.healthy(name)(method, body)
            }
        }
    }

    @Test(arguments: [
        "already known", "known transaction: 5c50", "nonce too low: next nonce 4, tx nonce 3", "AlreadyKnown", "OldNonce",
        "Invalid transaction nonce: Expected 6, but got 5",
    ])
    func anAlreadyKnownTransactionIsASuccessWithItsHash(message: String) async {
        let a = ScriptedTransport(knowing("a", message: message))
        let router = await RouterFixture.network([("a", .primary, a)])
        let outcome = await router.forward(RouterFixture.request("eth_sendRawTransaction", #"["\#(raw)"]"#, id: 7))
        #expect(RouterFixture.body(outcome) == #"{"jsonrpc":"2.0","id":7,"result":"\#(hash)"}"#)
    }

    @Test func nonceTooLowForAnotherTransactionStaysAnError() async {
        let a = ScriptedTransport(knowing("a", message: "nonce too low"))
        a.set { method, body throws(UpstreamFailure) in
            let id = ScriptedTransport.id(in: body)
            switch method {
            case "eth_sendRawTransaction": return #"{"jsonrpc":"2.0","id":\#(id),"error":{"code":-32000,"message":"nonce too low"}}"#
            case "eth_getTransactionByHash": return #"{"jsonrpc":"2.0","id":\#(id),"result":null}"#
            default: return try await ScriptedTransport.healthy("a")(method, body)
            }
        }
        let router = await RouterFixture.network([("a", .primary, a)])
        let outcome = await router.forward(RouterFixture.request("eth_sendRawTransaction", #"["\#(raw)"]"#))
        #expect(RouterFixture.body(outcome)?.contains("nonce too low") == true)
    }

    @Test func aFailedSendIsRetriedOnAnotherNodeAndNeverFannedOut() async {
        let a = ScriptedTransport.node("a")
        let b = ScriptedTransport.node("b")
        let router = await RouterFixture.network([("a", .primary, a), ("b", .primary, b)])
        let first = router.candidates(for: .none)[0].name
        let (failing, other) = first == "a" ? (a, b) : (b, a)
        failing.set { method, body throws(UpstreamFailure) in
            guard method != "eth_sendRawTransaction" else { throw UpstreamFailure(.connectionClosed, "reset") }
            return try await ScriptedTransport.healthy("x")(method, body)
        }
        let outcome = await router.forward(RouterFixture.request("eth_sendRawTransaction", #"["\#(raw)"]"#))
        #expect(RouterFixture.answeredBy(outcome) != first)
        #expect(other.methods.filter { $0 == "eth_sendRawTransaction" }.count == 1)
        #expect(failing.methods.filter { $0 == "eth_sendRawTransaction" }.count == 1)
        // Answered at once: sent to one upstream only.
        _ = await router.forward(RouterFixture.request("eth_sendRawTransaction", #"["\#(raw)"]"#))
        #expect(a.methods.filter { $0 == "eth_sendRawTransaction" }.count + b.methods.filter { $0 == "eth_sendRawTransaction" }.count == 3)
    }
}
