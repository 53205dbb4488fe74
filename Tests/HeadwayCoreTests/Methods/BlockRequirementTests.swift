import HeadwayCore
import JSONRPC
import Testing

@Suite struct BlockRequirementTests {
    func requirement(_ method: String, _ params: String?) -> BlockRequirement {
        BlockRequirement.of(method: method, params: params.map { RawJSON($0) })
    }

    @Test func blockNumbersAndTags() {
        #expect(requirement("eth_getBlockByNumber", #"["0x1b4", false]"#) == .number(436))
        #expect(requirement("eth_getBlockByNumber", #"["latest", false]"#) == .head)
        #expect(requirement("eth_getBlockByNumber", #"["finalized", true]"#) == .head)
        #expect(requirement("eth_getBlockByNumber", #"["earliest", false]"#) == .number(0))
        #expect(requirement("eth_getBalance", #"["0x7e5f4552091a69125d5dfcb7b8c2659029395bdf", "0x10"]"#) == .number(16))
        #expect(requirement("eth_getStorageAt", #"["0x7e5f4552091a69125d5dfcb7b8c2659029395bdf", "0x0", "pending"]"#) == .head)
    }

    @Test func aLeftOutBlockParameterMeansTheHead() {
        #expect(requirement("eth_getBalance", #"["0x7e5f4552091a69125d5dfcb7b8c2659029395bdf"]"#) == .head)
        #expect(requirement("eth_call", #"[{"to":"0x7e5f4552091a69125d5dfcb7b8c2659029395bdf"}]"#) == .head)
    }

    @Test func hashesAndEIP1898Objects() {
        let hash = "0x" + String(repeating: "ab", count: 32)
        #expect(requirement("eth_getBlockByNumber", #"["\#(hash)", false]"#) == .none)
        #expect(requirement("eth_getBalance", #"["0x7e5f4552091a69125d5dfcb7b8c2659029395bdf", {"blockHash":"\#(hash)"}]"#) == .none)
        #expect(requirement("eth_getBalance", #"["0x7e5f4552091a69125d5dfcb7b8c2659029395bdf", {"blockNumber":"0x20"}]"#) == .number(32))
    }

    @Test func logFiltersNeedTheirHighestBlock() {
        #expect(requirement("eth_getLogs", #"[{"fromBlock":"0x10","toBlock":"0x20"}]"#) == .number(32))
        #expect(requirement("eth_getLogs", #"[{"fromBlock":"0x10"}]"#) == .head)
        #expect(requirement("eth_getLogs", #"[{"blockHash":"0x\#(String(repeating: "cd", count: 32))"}]"#) == .none)
        #expect(requirement("eth_getLogs", #"[{"address":"0x7e5f4552091a69125d5dfcb7b8c2659029395bdf"}]"#) == .head)
    }

    @Test func methodsWithoutABlockNeedNothing() {
        #expect(requirement("eth_getTransactionByHash", #"["0x\#(String(repeating: "ef", count: 32))"]"#) == .none)
        #expect(requirement("eth_chainId", "[]") == .none)
        #expect(requirement("eth_getBlockByNumber", nil) == .none)
        #expect(requirement("eth_getBlockByNumber", "not json") == .none)
    }
}
