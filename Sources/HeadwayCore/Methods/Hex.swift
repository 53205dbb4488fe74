/// Ethereum's `0x`-prefixed hex: quantities and data.
public enum Hex {
    public static func uint64(_ text: String) -> UInt64? {
        guard text.hasPrefix("0x") || text.hasPrefix("0X"), text.count > 2, text.count <= 18 else { return nil }
        return UInt64(text.dropFirst(2), radix: 16)
    }

    public static func quantity(_ value: UInt64) -> String {
        "0x" + String(value, radix: 16)
    }

    /// Decodes `0x`-prefixed hex data; `nil` when it is not.
    public static func bytes(_ text: String) -> [UInt8]? {
        var utf8 = Array(text.utf8)
        guard utf8.count >= 2, utf8[0] == UInt8(ascii: "0"), utf8[1] == UInt8(ascii: "x") || utf8[1] == UInt8(ascii: "X") else { return nil }
        utf8.removeFirst(2)
        guard utf8.count % 2 == 0 else { return nil }
        var output: [UInt8] = []
        output.reserveCapacity(utf8.count / 2)
        var index = 0
        while index < utf8.count {
            guard let high = nibble(utf8[index]), let low = nibble(utf8[index + 1]) else { return nil }
            output.append(high << 4 | low)
            index += 2
        }
        return output
    }

    /// Lowercase hex digits of `bytes`, two a byte, without a prefix.
    public static func digits(_ bytes: some Sequence<UInt8>) -> String {
        let alphabet = Array("0123456789abcdef".utf8)
        var utf8: [UInt8] = []
        utf8.reserveCapacity(bytes.underestimatedCount * 2)
        for byte in bytes {
            utf8.append(alphabet[Int(byte >> 4)])
            utf8.append(alphabet[Int(byte & 0xF)])
        }
        return String(decoding: utf8, as: UTF8.self)
    }

    /// The value of one hex digit (either case); nil for any other byte.
    public static func nibble(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
