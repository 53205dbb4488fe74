import JSONRPC
import NIOCore
import Testing

@Suite struct JSONRPCResponseTests {
    @Test func aMatchingIdLeavesTheBodyUntouched() throws {
        let body = ByteBuffer(string: #"{"jsonrpc":"2.0","id":7,"result":"0x10"}"#)
        let response = try #require(JSONRPCResponse(scanning: body))
        #expect(response.body(withID: RawJSON("7")) == body)
        #expect(response.resultString == "0x10")
        #expect(response.error == nil)
    }

    @Test func aDifferentIdIsSplicedIn() throws {
        let response = try #require(JSONRPCResponse(scanning: ByteBuffer(string: #"{"jsonrpc":"2.0","id":1.0,"result":[1,{"id":2}]}"#)))
        #expect(String(buffer: response.body(withID: RawJSON(#""client-id""#))) == #"{"jsonrpc":"2.0","id":"client-id","result":[1,{"id":2}]}"#)
    }

    @Test func errorsAreRead() throws {
        let response = try #require(
            JSONRPCResponse(scanning: ByteBuffer(string: #"{"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"no \"such\" method"}}"#)))
        #expect(response.error == JSONRPCError(code: -32601, message: #"no "such" method"#))
    }

    @Test(arguments: ["<html>", #"{"jsonrpc":"2.0","id":1}"#, "[]", #"{"jsonrpc":"2.0","id":1,"result":"#, ""])
    func garbageIsNotAResponse(text: String) {
        #expect(JSONRPCResponse(scanning: ByteBuffer(string: text)) == nil)
    }

    @Test func falseResultsAreRecognised() throws {
        let response = try #require(JSONRPCResponse(scanning: ByteBuffer(string: #"{"id":1,"jsonrpc":"2.0","result":false}"#)))
        #expect(response.resultIsFalse)
    }

    @Test func errorResponsesAreValidJSON() throws {
        let body = JSONRPCError.resourceUnavailable("all \"down\"\n").response(id: RawJSON(#""x""#))
        #expect(String(buffer: body) == #"{"jsonrpc":"2.0","id":"x","error":{"code":-32002,"message":"resource unavailable: all \"down\"\n"}}"#)
        #expect(JSONRPCResponse(scanning: body)?.error?.code == -32002)
    }

    @Test func stringsDecode() {
        let text = #"a\"b\\c\/d\n\u00e9\ud83d\ude00"#
        let decoded = Array(text.utf8).withUnsafeBytes { JSONString.decode($0) }
        #expect(decoded == "a\"b\\c/d\né😀")
    }
}
