import JSONRPC
import NIOCore
import Testing

@testable import HeadwayCore

@Suite struct CachePolicyTests {
    func rule(_ method: String, _ params: String) -> CachePolicy.Rule? {
        CachePolicy.rule(method: method, params: RawJSON(ByteBuffer(string: params)))
    }

    @Test func onlyAnswersThatCannotChangeHaveARule() {
        #expect(rule("eth_chainId", "[]") == .always)
        #expect(rule("eth_getBlockByHash", #"["0xabc",false]"#) == .always)
        #expect(rule("eth_getBlockByNumber", #"["0x10",true]"#) == .finalBlock(16))
        for tag in ["latest", "pending", "safe", "finalized"] {
            #expect(rule("eth_getBlockByNumber", #"["\#(tag)",false]"#) == nil, "\(tag)")
        }
        #expect(rule("eth_getLogs", #"[{"fromBlock":"0x1","toBlock":"0x20"}]"#) == .finalBlock(32))
        #expect(rule("eth_getLogs", #"[{"fromBlock":"0x1"}]"#) == nil, "toBlock defaults to latest")
        #expect(rule("eth_getLogs", #"[{"blockHash":"0xabc"}]"#) == .always)
        #expect(rule("eth_getTransactionReceipt", #"["0xabc"]"#) == .finalResult)
        #expect(rule("eth_getBalance", #"["0xabc","0x10"]"#) == nil)
        #expect(rule("eth_blockNumber", "[]") == nil)
    }

    func response(_ result: String) -> JSONRPCResponse {
        JSONRPCResponse(scanning: ByteBuffer(string: #"{"jsonrpc":"2.0","id":1,"result":\#(result)}"#))!
    }

    @Test func anAnswerIsKeptOnlyWhenItsBlockIsFinal() {
        let header = response(#"{"number":"0x10"}"#)
        #expect(CachePolicy.accepts(header, rule: .finalBlock(16), head: 80, depth: 64))
        #expect(!CachePolicy.accepts(header, rule: .finalBlock(16), head: 79, depth: 64))
        #expect(!CachePolicy.accepts(header, rule: .finalBlock(16), head: nil, depth: 64))
        #expect(!CachePolicy.accepts(response("null"), rule: .always, head: 80, depth: 64), "not known yet is not for ever")
        let error = JSONRPCResponse(scanning: ByteBuffer(string: #"{"jsonrpc":"2.0","id":1,"error":{"code":-32000,"message":"x"}}"#))!
        #expect(!CachePolicy.accepts(error, rule: .always, head: 80, depth: 64))
        #expect(CachePolicy.accepts(response(#"{"blockNumber":"0x5","status":"0x1"}"#), rule: .finalResult, head: 100, depth: 64))
        #expect(!CachePolicy.accepts(response(#"{"blockNumber":"0x50"}"#), rule: .finalResult, head: 100, depth: 64))
        #expect(!CachePolicy.accepts(response(#"{"blockNumber":null}"#), rule: .finalResult, head: 100, depth: 64), "pending")
    }
}
