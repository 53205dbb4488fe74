import Foundation
import JSONRPC
import NIOCore
import Testing

@Suite struct JSONRPCBodyTests {
    func parse(_ text: String) throws(JSONRPCError) -> JSONRPCBody {
        try JSONRPCBody.parse(ByteBuffer(string: text))
    }

    func request(_ text: String) throws -> JSONRPCRequest {
        guard case .single(.request(let request)) = try parse(text) else {
            Issue.record("not a single valid request: \(text)")
            throw JSONRPCError.internalError("test")
        }
        return request
    }

    @Test(arguments: [#"1"#, #"-7"#, #"1.5e3"#, #""abc""#, #""""#, #"null"#, #"18446744073709551616123"#, #""\u00e9\"x""#])
    func idsAreKeptByteForByte(id: String) throws {
        let parsed = try request(#"{"jsonrpc":"2.0","id":\#(id),"method":"eth_blockNumber","params":[]}"#)
        #expect(parsed.id?.description == id)
        #expect(parsed.method == "eth_blockNumber")
    }

    @Test func theOriginalBytesAreForwarded() throws {
        let text = #"  {"method":"eth_call" , "params":[{"to":"0x01"},"latest"],"id":7,"jsonrpc":"2.0","extra":{"a":[1,2]}}  "#
        let parsed = try request(text)
        #expect(String(buffer: parsed.body) == text.trimmingCharacters(in: .whitespaces))
        #expect(parsed.params?.description == #"[{"to":"0x01"},"latest"]"#)
    }

    @Test func aRequestWithoutIdIsANotification() throws {
        let parsed = try request(#"{"jsonrpc":"2.0","method":"eth_blockNumber"}"#)
        #expect(parsed.isNotification)
    }

    @Test func escapedMethodNamesAreDecoded() throws {
        let parsed = try request(#"{"jsonrpc":"2.0","id":1,"m\u0065thod":"eth_\u0062lockNumber"}"#)
        #expect(parsed.method == "eth_blockNumber")
    }

    @Test(arguments: ["", "{", "nope", #"{"a":1,}"#, "[1,2", #"{"jsonrpc":"2.0"} x"#, "01", "1.", "-", "\"\u{01}\"", #""\x""#, "tru"])
    func nonJSONIsAParseError(text: String) {
        #expect(throws: JSONRPCError.self) { try parse(text) }
        do {
            _ = try parse(text)
        } catch {
            #expect(error.code == -32700)
        }
    }

    @Test func deepNestingIsRejectedNotCrashed() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        do {
            _ = try parse(deep)
            Issue.record("accepted")
        } catch {
            #expect(error.code == -32700)
            #expect(error.message.contains("nesting"))
        }
    }

    @Test func anEmptyBatchIsInvalid() {
        do {
            _ = try parse(" [ ] ")
            Issue.record("accepted")
        } catch {
            #expect(error.code == -32600)
        }
    }

    @Test(arguments: [
        (#"{"id":1,"method":"x"}"#, "jsonrpc"),
        (#"{"jsonrpc":"1.0","id":1,"method":"x"}"#, "jsonrpc"),
        (#"{"jsonrpc":"2.0","id":1}"#, "missing method"),
        (#"{"jsonrpc":"2.0","id":1,"method":5}"#, "method must be a string"),
        (#"{"jsonrpc":"2.0","id":1,"method":"x","params":"y"}"#, "params"),
        (#"{"jsonrpc":"2.0","id":{"a":1},"method":"x"}"#, "id must be"),
        (#"{"jsonrpc":"2.0","id":1,"method":""}"#, "empty"),
    ])
    func invalidRequestObjects(text: String, reason: String) throws {
        guard case .single(.invalid(_, let error)) = try parse(text) else {
            Issue.record("accepted \(text)")
            return
        }
        #expect(error.code == -32600)
        #expect(error.message.contains(reason))
    }

    @Test func anInvalidRequestKeepsAReadableId() throws {
        guard case .single(.invalid(let id, _)) = try parse(#"{"jsonrpc":"2.0","id":"abc"}"#) else {
            Issue.record("accepted")
            return
        }
        #expect(id?.description == #""abc""#)
    }

    @Test func batchesKeepTheirOrderAndMixValidAndInvalidItems() throws {
        guard case .batch(let items) = try parse(#"[{"jsonrpc":"2.0","id":1,"method":"a"}, 5, {"jsonrpc":"2.0","id":2,"method":"b"}]"#) else {
            Issue.record("not a batch")
            return
        }
        #expect(items.count == 3)
        guard case .request(let first) = items[0], case .invalid = items[1], case .request(let third) = items[2] else {
            Issue.record("wrong items")
            return
        }
        #expect(first.method == "a")
        #expect(third.method == "b")
    }
}
