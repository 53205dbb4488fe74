/// A strict, validating JSON scanner that works on raw bytes and builds no document tree.
///
/// The gateway only needs to know where a few top-level members of a JSON-RPC envelope sit
/// (`jsonrpc`, `id`, `method`, `params`, `result`, `error`); everything else is forwarded as the
/// original bytes. The scanner validates the whole input (RFC 8259 grammar, nesting bounded by
/// ``maxDepth``) so that malformed bodies are rejected with a parse error instead of being passed on.
public struct JSONScanner {
    /// The kinds of JSON values.
    public enum Kind: Sendable, Equatable {
        case object, array, string, number, `true`, `false`, null
    }

    /// A value found by the scanner: its kind and its byte range in the input.
    public struct Value: Sendable, Equatable {
        public var kind: Kind
        public var range: Range<Int>
    }

    /// Thrown when the input is not valid JSON; `offset` points at the first offending byte.
    public struct SyntaxError: Error, Sendable, Equatable {
        public var offset: Int
        public var reason: String
    }

    /// Deepest nesting accepted; deeper input is rejected rather than risking the stack.
    public static let maxDepth = 128

    let bytes: UnsafeRawBufferPointer
    var index: Int

    public init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
        self.index = 0
    }

    // MARK: Public entry points

    /// Scans exactly one JSON value surrounded by optional whitespace.
    public mutating func scanDocument() throws(SyntaxError) -> Value {
        skipWhitespace()
        let value = try scanValue(depth: 0)
        skipWhitespace()
        guard index == bytes.count else { throw fail("unexpected data after the JSON value") }
        return value
    }

    /// Scans exactly one JSON document that must be an object, surrounded by optional whitespace,
    /// calling `body` with each of its members as it is validated: one pass over the input where
    /// ``scanDocument()`` followed by ``forEachMember(ofObject:_:)`` takes two. Returns nil when
    /// the document is valid JSON but not an object.
    public mutating func scanObjectDocument(_ body: (_ key: Range<Int>, _ value: Value) -> Void) throws(SyntaxError) -> Value? {
        skipWhitespace()
        guard peek() == UInt8(ascii: "{") else {
            _ = try scanDocument()
            return nil
        }
        let start = index
        try scanMembers(depth: 0, body)
        let value = Value(kind: .object, range: start..<index)
        skipWhitespace()
        guard index == bytes.count else { throw fail("unexpected data after the JSON value") }
        return value
    }

    /// Calls `body` with each member of the object at `range` (key bytes range without quotes, and value).
    /// The object must have been validated by a previous scan.
    public func forEachMember(
        ofObject range: Range<Int>, _ body: (_ key: Range<Int>, _ value: Value) throws -> Void
    ) rethrows {
        var scanner = JSONScanner(bytes)
        scanner.index = range.lowerBound + 1
        scanner.skipWhitespace()
        if scanner.peek() == UInt8(ascii: "}") { return }
        while true {
            scanner.skipWhitespace()
            // Validated input: these cannot fail.
            guard let key = try? scanner.scanString() else { return }
            scanner.skipWhitespace()
            scanner.index += 1  // ':'
            scanner.skipWhitespace()
            guard let value = try? scanner.scanValue(depth: 1) else { return }
            try body(key.lowerBound + 1..<key.upperBound - 1, value)
            scanner.skipWhitespace()
            if scanner.peek() == UInt8(ascii: ",") {
                scanner.index += 1
            } else {
                return
            }
        }
    }

    /// Calls `body` with each element of the array at `range`. The array must have been validated.
    public func forEachElement(ofArray range: Range<Int>, _ body: (Value) throws -> Void) rethrows {
        var scanner = JSONScanner(bytes)
        scanner.index = range.lowerBound + 1
        scanner.skipWhitespace()
        if scanner.peek() == UInt8(ascii: "]") { return }
        while true {
            scanner.skipWhitespace()
            guard let value = try? scanner.scanValue(depth: 1) else { return }
            try body(value)
            scanner.skipWhitespace()
            if scanner.peek() == UInt8(ascii: ",") {
                scanner.index += 1
            } else {
                return
            }
        }
    }

    // MARK: Grammar

    mutating func scanValue(depth: Int) throws(SyntaxError) -> Value {
        guard depth < Self.maxDepth else { throw fail("nesting deeper than \(Self.maxDepth) levels") }
        guard let byte = peek() else { throw fail("unexpected end of input") }
        let start = index
        switch byte {
        case UInt8(ascii: "{"):
            try scanObject(depth: depth)
            return Value(kind: .object, range: start..<index)
        case UInt8(ascii: "["):
            try scanArray(depth: depth)
            return Value(kind: .array, range: start..<index)
        case UInt8(ascii: "\""):
            let range = try scanString()
            return Value(kind: .string, range: range)
        case UInt8(ascii: "t"):
            try expectLiteral("true")
            return Value(kind: .true, range: start..<index)
        case UInt8(ascii: "f"):
            try expectLiteral("false")
            return Value(kind: .false, range: start..<index)
        case UInt8(ascii: "n"):
            try expectLiteral("null")
            return Value(kind: .null, range: start..<index)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            try scanNumber()
            return Value(kind: .number, range: start..<index)
        default:
            throw fail("unexpected character")
        }
    }

    mutating func scanObject(depth: Int) throws(SyntaxError) {
        try scanMembers(depth: depth) { _, _ in }
    }

    /// Scans the object at `index`, calling `body` with each member (key bytes without quotes,
    /// and value) as soon as it is validated.
    @inline(__always)
    mutating func scanMembers(depth: Int, _ body: (_ key: Range<Int>, _ value: Value) -> Void) throws(SyntaxError) {
        index += 1  // '{'
        skipWhitespace()
        if peek() == UInt8(ascii: "}") {
            index += 1
            return
        }
        while true {
            skipWhitespace()
            guard peek() == UInt8(ascii: "\"") else { throw fail("expected a string key") }
            let key = try scanString()
            skipWhitespace()
            guard peek() == UInt8(ascii: ":") else { throw fail("expected ':' after a key") }
            index += 1
            skipWhitespace()
            let value = try scanValue(depth: depth + 1)
            body(key.lowerBound + 1..<key.upperBound - 1, value)
            skipWhitespace()
            switch peek() {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "}"):
                index += 1
                return
            default: throw fail("expected ',' or '}' in an object")
            }
        }
    }

    mutating func scanArray(depth: Int) throws(SyntaxError) {
        index += 1  // '['
        skipWhitespace()
        if peek() == UInt8(ascii: "]") {
            index += 1
            return
        }
        while true {
            skipWhitespace()
            _ = try scanValue(depth: depth + 1)
            skipWhitespace()
            switch peek() {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "]"):
                index += 1
                return
            default: throw fail("expected ',' or ']' in an array")
            }
        }
    }

    /// Scans a string starting at the opening quote; returns the range including both quotes.
    mutating func scanString() throws(SyntaxError) -> Range<Int> {
        let start = index
        guard peek() == UInt8(ascii: "\"") else { throw fail("expected a string") }
        index += 1
        while index < bytes.count {
            // Eight bytes at a time while none of them ends the string, escapes or is a control
            // character (most of a block's JSON is long hex strings).
            while index + 8 <= bytes.count, !Self.mayNeedAttention(bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self)) {
                index += 8
            }
            guard index < bytes.count else { break }
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                return start..<index
            case UInt8(ascii: "\\"):
                index += 1
                guard let escaped = peek() else { throw fail("unterminated escape") }
                switch escaped {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"),
                    UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    index += 1
                case UInt8(ascii: "u"):
                    index += 1
                    for _ in 0..<4 {
                        guard let hex = peek(), hex.isHexDigit else { throw fail("bad \\u escape") }
                        index += 1
                    }
                default:
                    throw fail("bad escape sequence")
                }
            case 0..<0x20:
                throw fail("control character in a string")
            default:
                index += 1
            }
        }
        throw fail("unterminated string")
    }

    /// Whether any of the eight bytes in `word` is a quote, a backslash or below 0x20 (the
    /// classic "has a zero byte" bit trick, applied to each condition).
    @inline(__always)
    static func mayNeedAttention(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        func hasZeroByte(_ value: UInt64) -> Bool { (value &- ones) & ~value & highs != 0 }
        let quote = word ^ (ones &* UInt64(UInt8(ascii: "\"")))
        let backslash = word ^ (ones &* UInt64(UInt8(ascii: "\\")))
        let control = (word &- ones &* 0x20) & ~word & highs != 0
        return control || hasZeroByte(quote) || hasZeroByte(backslash)
    }

    mutating func scanNumber() throws(SyntaxError) {
        if peek() == UInt8(ascii: "-") { index += 1 }
        guard let first = peek(), first.isDigit else { throw fail("bad number") }
        index += 1
        if first != UInt8(ascii: "0") {
            while let digit = peek(), digit.isDigit { index += 1 }
        }
        if peek() == UInt8(ascii: ".") {
            index += 1
            guard let digit = peek(), digit.isDigit else { throw fail("bad number fraction") }
            while let digit = peek(), digit.isDigit { index += 1 }
        }
        if let e = peek(), e == UInt8(ascii: "e") || e == UInt8(ascii: "E") {
            index += 1
            if let sign = peek(), sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") { index += 1 }
            guard let digit = peek(), digit.isDigit else { throw fail("bad number exponent") }
            while let digit = peek(), digit.isDigit { index += 1 }
        }
    }

    mutating func expectLiteral(_ literal: StaticString) throws(SyntaxError) {
        let count = literal.utf8CodeUnitCount
        guard index + count <= bytes.count else { throw fail("unexpected end of input") }
        let expected = UnsafeRawBufferPointer(start: literal.utf8Start, count: count)
        for offset in 0..<count where bytes[index + offset] != expected[offset] {
            throw fail("unexpected literal")
        }
        index += count
    }

    mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    func peek() -> UInt8? {
        index < bytes.count ? bytes[index] : nil
    }

    func fail(_ reason: String) -> SyntaxError {
        SyntaxError(offset: index, reason: reason)
    }
}

extension UInt8 {
    var isDigit: Bool { self >= UInt8(ascii: "0") && self <= UInt8(ascii: "9") }
    var isHexDigit: Bool {
        isDigit || (self >= UInt8(ascii: "a") && self <= UInt8(ascii: "f"))
            || (self >= UInt8(ascii: "A") && self <= UInt8(ascii: "F"))
    }
}
