import HeadwayCore
import JSONRPC
import NIOCore
import Testing

@testable import HeadwayUpstream

@Suite struct UpstreamHeadFeedsTests {
    func members(_ text: String) -> [(key: String, value: ByteBuffer)] {
        JSONMembers.object(ByteBuffer(string: text)) ?? []
    }

    @Test func aNewHeadsNotificationCarriesItsBlockNumber() {
        let notification = #"{"jsonrpc":"2.0","method":"eth_subscription","params":{"subscription":"0x9c","result":{"number":"0x1b4","hash":"0xab"}}}"#
        #expect(UpstreamHeadFeeds.pushedHead(members(notification)) == 436)
    }

    @Test(arguments: [
        #"{"jsonrpc":"2.0","id":1,"result":"0x9c"}"#,
        #"{"jsonrpc":"2.0","method":"eth_subscription","params":{"subscription":"0x9c","result":"0xabcdef"}}"#,
        #"{"jsonrpc":"2.0","method":"eth_subscription","params":{"subscription":"0x9c","result":{"hash":"0xab"}}}"#,
        #"{"jsonrpc":"2.0","method":"other","params":{"result":{"number":"0x1"}}}"#,
    ])
    func otherMessagesCarryNone(text: String) {
        #expect(UpstreamHeadFeeds.pushedHead(members(text)) == nil)
    }
}
