import JSONRPC
import NIOCore

/// Which block a request needs an upstream to have, read from its params.
public enum BlockRequirement: Sendable, Equatable {
    /// Nothing in particular (by hash, or no block involved).
    case none
    /// A block tag that means the chain head (`latest`, `pending`, `safe`, `finalized`, or the
    /// default when the block parameter is left out).
    case head
    /// A block number: an upstream whose head is below it does not have it yet.
    case number(UInt64)

    /// Reads the requirement of `method` from its raw `params`.
    public static func of(method: String, params: RawJSON?) -> BlockRequirement {
        guard let position = positions[method] else { return .none }
        let bytes = params?.bytes
        switch position {
        case .argument(let index, let defaultsToHead):
            guard let bytes, let value = element(index, of: bytes) else { return defaultsToHead ? .head : .none }
            return requirement(of: value) ?? .none
        case .filter:
            guard let bytes, let filter = element(0, of: bytes), case .object(let members) = filter else { return .head }
            if members["blockHash"] != nil { return .none }
            let from = members["fromBlock"].flatMap { requirement(of: .string($0)) } ?? .head
            let to = members["toBlock"].flatMap { requirement(of: .string($0)) } ?? .head
            return max(from, to)
        }
    }

    static func max(_ a: BlockRequirement, _ b: BlockRequirement) -> BlockRequirement {
        switch (a, b) {
        case (.head, _), (_, .head): .head
        case (.number(let x), .number(let y)): .number(Swift.max(x, y))
        case (.number, .none): a
        case (.none, _): b
        }
    }

    enum Position {
        case argument(Int, defaultsToHead: Bool)
        case filter
    }

    static let positions: [String: Position] = [
        "eth_getBlockByNumber": .argument(0, defaultsToHead: false),
        "eth_getBlockTransactionCountByNumber": .argument(0, defaultsToHead: false),
        "eth_getTransactionByBlockNumberAndIndex": .argument(0, defaultsToHead: false),
        "eth_getUncleByBlockNumberAndIndex": .argument(0, defaultsToHead: false),
        "eth_getUncleCountByBlockNumber": .argument(0, defaultsToHead: false),
        "eth_getBlockReceipts": .argument(0, defaultsToHead: false),
        "eth_getHeaderByNumber": .argument(0, defaultsToHead: false),
        "eth_getBalance": .argument(1, defaultsToHead: true),
        "eth_getCode": .argument(1, defaultsToHead: true),
        "eth_getTransactionCount": .argument(1, defaultsToHead: true),
        "eth_call": .argument(1, defaultsToHead: true),
        "eth_estimateGas": .argument(1, defaultsToHead: true),
        "eth_createAccessList": .argument(1, defaultsToHead: true),
        "eth_feeHistory": .argument(1, defaultsToHead: true),
        "eth_getStorageAt": .argument(2, defaultsToHead: true),
        "eth_getProof": .argument(2, defaultsToHead: true),
        "eth_getLogs": .filter,
        "eth_newFilter": .filter,
    ]

    /// A block parameter: a tag or quantity string, or an EIP-1898 object.
    enum Value {
        case string(String)
        case object([String: String])
    }

    static func requirement(of value: Value) -> BlockRequirement? {
        switch value {
        case .string(let text):
            switch text {
            case "latest", "pending", "safe", "finalized": return .head
            case "earliest": return .number(0)
            default:
                if let number = Hex.uint64(text) { return .number(number) }
                return text.count == 66 ? BlockRequirement.none : nil  // a block hash
            }
        case .object(let members):
            if let number = members["blockNumber"] { return requirement(of: .string(number)) }
            return BlockRequirement.none
        }
    }

    /// The `index`th element of a params array, when it is a string or an object of strings.
    static func element(_ index: Int, of bytes: ByteBuffer) -> Value? {
        bytes.withUnsafeReadableBytes { raw -> Value? in
            var scanner = JSONScanner(raw)
            guard let document = try? scanner.scanDocument(), document.kind == .array else { return nil }
            var found: JSONScanner.Value?
            var position = 0
            scanner.forEachElement(ofArray: document.range) { value in
                if position == index { found = value }
                position += 1
            }
            guard let found else { return nil }
            func string(_ value: JSONScanner.Value) -> String {
                JSONString.decode(UnsafeRawBufferPointer(rebasing: raw[value.range.lowerBound + 1..<value.range.upperBound - 1]))
            }
            switch found.kind {
            case .string: return .string(string(found))
            case .object:
                var members: [String: String] = [:]
                scanner.forEachMember(ofObject: found.range) { key, value in
                    if value.kind == .string {
                        members[String(decoding: UnsafeRawBufferPointer(rebasing: raw[key]), as: UTF8.self)] = string(value)
                    }
                }
                return .object(members)
            default: return nil
            }
        }
    }
}
