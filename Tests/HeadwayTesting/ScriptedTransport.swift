import HeadwayCore
import NIOCore
import Synchronization

/// An in-memory transport whose answers a test scripts: no sockets, no time.
public final class ScriptedTransport: UpstreamTransport {
    public typealias Script = @Sendable (_ method: String, _ body: String) async throws(UpstreamFailure) -> String

    let script: Mutex<Script>
    let sent = Mutex<[String]>([])

    public init(_ script: @escaping Script) {
        self.script = Mutex(script)
    }

    /// A node on `chainID` at `head`, not syncing, that echoes `web3_clientVersion` as `name`.
    public static func node(_ name: String, chainID: UInt64 = 1, head: UInt64 = 100) -> ScriptedTransport {
        ScriptedTransport(Self.healthy(name, chainID: chainID, head: head))
    }

    public static func healthy(_ name: String, chainID: UInt64 = 1, head: UInt64 = 100) -> Script {
        { method, body throws(UpstreamFailure) in
            let id = Self.id(in: body)
            switch method {
            case "eth_chainId": return #"{"jsonrpc":"2.0","id":\#(id),"result":"\#(Hex.quantity(chainID))"}"#
            case "eth_blockNumber": return #"{"jsonrpc":"2.0","id":\#(id),"result":"\#(Hex.quantity(head))"}"#
            case "eth_syncing": return #"{"jsonrpc":"2.0","id":\#(id),"result":false}"#
            default: return #"{"jsonrpc":"2.0","id":\#(id),"result":"\#(name)"}"#
            }
        }
    }

    /// Replaces the script (a node that changes behaviour).
    public func set(_ script: @escaping Script) {
        self.script.withLock { $0 = script }
    }

    /// Methods of every request sent, in order.
    public var methods: [String] { sent.withLock { $0 } }

    public func send(_ body: ByteBuffer, timeout: Duration) async throws(UpstreamFailure) -> ByteBuffer {
        let text = String(buffer: body)
        let method = Self.method(in: text)
        sent.withLock { $0.append(method) }
        let script = self.script.withLock { $0 }
        return ByteBuffer(string: try await script(method, text))
    }

    static func method(in body: String) -> String {
        guard let range = body.range(of: #""method":""#) else { return "" }
        return String(body[range.upperBound...].prefix { $0 != "\"" })
    }

    /// The raw id of a request body (enough for the bodies tests send).
    public static func id(in body: String) -> String {
        guard let range = body.range(of: #""id":"#) else { return "null" }
        return String(body[range.upperBound...].prefix { $0 != "," && $0 != "}" })
    }
}
