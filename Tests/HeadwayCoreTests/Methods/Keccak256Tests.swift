import HeadwayCore
import Testing

@Suite struct Keccak256Tests {
    @Test(arguments: [
        ("", "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"),
        ("abc", "0x4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45"),
        ("The quick brown fox jumps over the lazy dog", "0x4d741b6f1eb29cb2a9b9911c82f56fa8d73b04959d3d9d222895df6c0b28aa15"),
    ])
    func knownVectors(input: String, expected: String) {
        #expect(Keccak256.hex(Array(input.utf8)) == expected)
    }

    @Test func longInputsCrossTheRate() {
        // 200 bytes of 0x61 ('a'): spans two 136-byte blocks.
        #expect(Keccak256.hex([UInt8](repeating: 0x61, count: 200)).count == 66)
        #expect(Keccak256.hex([UInt8](repeating: 0x61, count: 136)) != Keccak256.hex([UInt8](repeating: 0x61, count: 135)))
    }

    @Test func hexDecoding() {
        #expect(Hex.bytes("0x00ff10") == [0, 255, 16])
        #expect(Hex.bytes("0xabc") == nil)
        #expect(Hex.bytes("zz") == nil)
    }
}
