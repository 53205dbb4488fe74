import JSONRPC
import Testing

/// The scanner's string fast path (eight bytes at a time) must stop at every quote, backslash
/// and control character wherever it falls in a word.
@Suite struct JSONScannerTests {
    func scan(_ text: String) -> Result<JSONScanner.Value, JSONScanner.SyntaxError> {
        var bytes = Array(text.utf8)
        return bytes.withUnsafeMutableBytes { raw in
            var scanner = JSONScanner(UnsafeRawBufferPointer(raw))
            return Result { () throws(JSONScanner.SyntaxError) in try scanner.scanDocument() }
        }
    }

    @Test(arguments: 0..<24)
    func theStringEndsAtItsQuoteWhateverItsLength(length: Int) throws {
        let text = "\"" + String(repeating: "a", count: length) + "\""
        let value = try scan(text).get()
        #expect(value.kind == .string)
        #expect(value.range == 0..<(length + 2))
        // Followed by more JSON: the quote still ends it.
        let array = try scan("[" + text + ",\"b\"]").get()
        #expect(array.range == 0..<(length + 8))
    }

    @Test(arguments: 0..<24)
    func escapesAnywhereAreHonoured(offset: Int) throws {
        let text = "\"" + String(repeating: "x", count: offset) + #"\"\\\u00e9"# + String(repeating: "y", count: 9) + "\""
        #expect(try scan(text).get().kind == .string)
        let bad = "\"" + String(repeating: "x", count: offset) + #"\q"# + String(repeating: "y", count: 9) + "\""
        #expect(throws: JSONScanner.SyntaxError.self) { try scan(bad).get() }
    }

    @Test(arguments: 0..<24)
    func controlCharactersAnywhereAreRejected(offset: Int) {
        for control: UInt8 in [0x00, 0x09, 0x0a, 0x1f] {
            let text = "\"" + String(repeating: "x", count: offset) + String(UnicodeScalar(control)) + String(repeating: "y", count: 9) + "\""
            #expect(throws: JSONScanner.SyntaxError.self) { try scan(text).get() }
        }
    }

    @Test func bytesAboveASCIIPassInsideStrings() throws {
        let text = "\"" + String(repeating: "é€𝄞", count: 5) + "\""
        #expect(try scan(text).get().range == 0..<text.utf8.count)
    }

    @Test func anUnterminatedLongStringIsRejected() {
        #expect(throws: JSONScanner.SyntaxError.self) { try scan("\"" + String(repeating: "0", count: 40)).get() }
    }

    func members(_ text: String) -> Result<[String]?, JSONScanner.SyntaxError> {
        var bytes = Array(text.utf8)
        return bytes.withUnsafeMutableBytes { raw in
            let buffer = UnsafeRawBufferPointer(raw)
            var scanner = JSONScanner(buffer)
            var keys: [String] = []
            return Result { () throws(JSONScanner.SyntaxError) in
                let document = try scanner.scanObjectDocument { key, value in
                    keys.append(String(decoding: UnsafeRawBufferPointer(rebasing: buffer[key]), as: UTF8.self) + "=" + "\(value.kind)")
                }
                return document == nil ? nil : keys
            }
        }
    }

    @Test func anObjectDocumentIsWalkedMemberByMemberInOnePass() throws {
        #expect(try members(#" {"id":1, "result":{"a":[1,2]},"error":null} "#).get() == ["id=number", "result=object", "error=null"])
        #expect(try members("{}").get() == [])
        #expect(try members("[1,2]").get() == nil)
        #expect(throws: JSONScanner.SyntaxError.self) { try members(#"{"a":1} x"#).get() }
        #expect(throws: JSONScanner.SyntaxError.self) { try members(#"{"a":1,}"#).get() }
        #expect(throws: JSONScanner.SyntaxError.self) { try members("[1,").get() }
    }
}
