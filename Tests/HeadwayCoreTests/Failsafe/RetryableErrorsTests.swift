import HeadwayCore
import JSONRPC
import Testing

@Suite struct RetryableErrorsTests {
    @Test(arguments: [
        (-32000, "header not found", true),
        (-32000, "No block found for block number: 83", true),
        (-32000, "missing trie node 5a3f (path )", true),
        (-32000, "Block not found", true),
        (-32005, "query returned more than 10000 results", true),
        (-32601, "the method eth_getBlockReceipts does not exist/is not available", true),
        (3, "execution reverted: no", false),
        (-32000, "execution reverted", false),
        (-32602, "invalid argument 0: hex string has odd length", false),
        (-32000, "insufficient funds for gas * price + value", false),
    ])
    func readsRetryWhatAnotherNodeMayAnswer(code: Int, message: String, retried: Bool) {
        #expect(RetryableErrors().isRetryable(JSONRPCError(code: code, message: message), methodClass: .read) == retried)
    }

    @Test func onlyReadsRetryNodeErrors() {
        let error = JSONRPCError(code: -32000, message: "header not found")
        for methodClass in [MethodClass.rawTransaction, .nonIdempotent, .filterUse, .subscription, .unknown] {
            #expect(!RetryableErrors().isRetryable(error, methodClass: methodClass), "\(methodClass)")
        }
    }

    @Test func theListIsConfigurable() {
        var retryOn = RetryableErrors()
        retryOn.codes = [-32099]
        retryOn.messages = ["warming up"]
        #expect(retryOn.isRetryable(JSONRPCError(code: -32099, message: "x"), methodClass: .read))
        #expect(retryOn.isRetryable(JSONRPCError(code: -32000, message: "Node is WARMING UP"), methodClass: .read))
        #expect(!retryOn.isRetryable(JSONRPCError(code: -32000, message: "header not found"), methodClass: .read))
    }
}
