import NIOCore

/// Reading and writing JSON objects and arrays member by member, values kept as raw bytes: for
/// the few answers the gateway reshapes (a block into a `newHeads` header, a log filter pinned
/// to one block) without decoding and re-encoding them.
public enum JSONMembers {
    /// The members of a JSON object document, in order; nil when `raw` is not an object.
    public static func object(_ raw: ByteBuffer) -> [(key: String, value: ByteBuffer)]? {
        raw.withUnsafeReadableBytes { bytes -> [(key: String, value: ByteBuffer)]? in
            var scanner = JSONScanner(bytes)
            var members: [(key: String, value: ByteBuffer)] = []
            let document = try? scanner.scanObjectDocument { key, value in
                let name = JSONString.decode(UnsafeRawBufferPointer(rebasing: bytes[key]))
                members.append((name, ByteBuffer(bytes: UnsafeRawBufferPointer(rebasing: bytes[value.range]))))
            }
            return document == nil ? nil : members
        }
    }

    /// The elements of a JSON array document, in order; nil when `raw` is not an array.
    public static func array(_ raw: ByteBuffer) -> [ByteBuffer]? {
        raw.withUnsafeReadableBytes { bytes -> [ByteBuffer]? in
            var scanner = JSONScanner(bytes)
            guard let document = try? scanner.scanDocument(), document.kind == .array else { return nil }
            var elements: [ByteBuffer] = []
            scanner.forEachElement(ofArray: document.range) { value in
                elements.append(ByteBuffer(bytes: UnsafeRawBufferPointer(rebasing: bytes[value.range])))
            }
            return elements
        }
    }

    /// A JSON object of `members` (values are raw JSON).
    public static func encode(_ members: [(key: String, value: ByteBuffer)]) -> ByteBuffer {
        var output = ByteBuffer()
        output.writeStaticString("{")
        for (index, member) in members.enumerated() {
            if index > 0 { output.writeStaticString(",") }
            output.writeString(JSONString.quoted(member.key))
            output.writeStaticString(":")
            output.writeImmutableBuffer(member.value)
        }
        output.writeStaticString("}")
        return output
    }

    /// The string value of member `key`, when it is a string.
    public static func string(_ key: String, in members: [(key: String, value: ByteBuffer)]) -> String? {
        members.first(where: { $0.key == key }).flatMap { stringValue($0.value) }
    }
}

extension JSONMembers {
    /// A raw JSON string's text; nil when it is not a string.
    public static func stringValue(_ raw: ByteBuffer) -> String? {
        raw.withUnsafeReadableBytes { bytes in
            guard bytes.count >= 2, bytes.first == UInt8(ascii: "\""), bytes.last == UInt8(ascii: "\"") else { return nil }
            return JSONString.decode(UnsafeRawBufferPointer(rebasing: bytes[1..<bytes.count - 1]))
        }
    }
}
