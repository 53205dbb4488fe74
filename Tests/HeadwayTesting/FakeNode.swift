import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import NIOPosix
import Synchronization

/// An in-process Ethereum JSON-RPC node on a loopback port, whose behaviour a test sets:
/// its chain id and head, syncing, and failure modes (hang, HTTP 500, garbage, dropped
/// connections, JSON-RPC errors).
public final class FakeNode: Sendable {
    /// How the node answers.
    public enum Mode: Sendable, Equatable {
        case normal
        /// Accepts the request and never answers.
        case hang
        /// Answers HTTP 500.
        case http500
        /// Answers 200 with a body that is not JSON.
        case garbage
        /// Closes the connection without answering.
        case drop
    }

    public struct State: Sendable {
        public var name: String
        public var chainID: UInt64 = 1
        public var head: UInt64 = 100
        public var syncing = false
        public var mode = Mode.normal
        /// Requests received, by method (probes included).
        public var calls: [String: Int] = [:]
        /// An artificial delay before answering.
        public var delay: Duration = .zero
        /// When each block was first served by `eth_getBlockByNumber` (benchmarks time fan-out from it).
        public var blockServedAt: [UInt64: ContinuousClock.Instant] = [:]
        /// Answer single requests for the probe methods by scanning, without JSON decoding and
        /// without counting calls (for benchmarks, where the node must cost next to nothing).
        public var fast = false
        /// Answer with `Connection: close` and close the connection after each answer.
        public var closeAfterAnswer = false
        /// The headers of the last request (names lowercased).
        public var lastHeaders: [String: String] = [:]
        /// Connections accepted so far.
        public var connectionsAccepted = 0
    }

    let state: Mutex<State>
    let channel: Mutex<(any Channel)?> = Mutex(nil)
    let children: Mutex<[any Channel]> = Mutex([])
    let boundPort = Atomic<Int>(0)
    let largeBlock = Mutex<(UInt64, String)?>(nil)

    /// The port it listens on.
    public var port: Int { boundPort.load(ordering: .relaxed) }

    public init(name: String, chainID: UInt64 = 1, head: UInt64 = 100) {
        var initial = State(name: name)
        initial.chainID = chainID
        initial.head = head
        state = Mutex(initial)
    }

    /// Starts listening on 127.0.0.1 at an ephemeral port (or `port`).
    public static func start(name: String, chainID: UInt64 = 1, head: UInt64 = 100, port: Int = 0) async throws -> FakeNode {
        let node = FakeNode(name: name, chainID: chainID, head: head)
        try await node.bind(port: port)
        return node
    }

    func bind(port: Int) async throws {
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { [self] channel in
                children.withLock { $0.append(channel) }
                state.withLock { $0.connectionsAccepted += 1 }
                return channel.pipeline.configureHTTPServerPipeline().flatMap {
                    channel.pipeline.addHandler(FakeNodeHandler(node: self))
                }
            }
        let channel = try await bootstrap.bind(host: "127.0.0.1", port: port).get()
        self.channel.withLock { $0 = channel }
        boundPort.store(channel.localAddress?.port ?? 0, ordering: .relaxed)
    }

    public var url: String { "http://127.0.0.1:\(port)" }

    /// Stops listening (established connections close too): the node is "killed".
    public func stop() async {
        let channel = self.channel.withLock { channel in
            defer { channel = nil }
            return channel
        }
        try? await channel?.close()
        let open = children.withLock { children in
            defer { children = [] }
            return children
        }
        for child in open { try? await child.close() }
    }

    /// Starts listening again on the same port (a restarted node).
    public func restart() async throws {
        try await bind(port: port)
    }

    public func update(_ change: (inout State) -> Void) {
        state.withLock { change(&$0) }
    }

    public var snapshot: State { state.withLock { $0 } }

    public func calls(_ method: String) -> Int { snapshot.calls[method] ?? 0 }

    /// Requests other than the health probes.
    public var clientCalls: Int {
        snapshot.calls.filter { !["eth_chainId", "eth_blockNumber", "eth_syncing"].contains($0.key) }.values.reduce(0, +)
    }

    /// The fast path: the answer built from the method and id found by scanning the body.
    func fastAnswer(_ request: ByteBuffer) -> ByteBuffer? {
        let text = String(buffer: request)
        guard !text.hasPrefix("["), let methodStart = text.range(of: #""method":""#) else { return nil }
        let method = text[methodStart.upperBound...].prefix { $0 != "\"" }
        var id = "null"
        if let idStart = text.range(of: #""id":"#) {
            id = String(text[idStart.upperBound...].prefix { $0 != "," && $0 != "}" })
        }
        let current = state.withLock { $0 }
        let result: String
        switch method {
        case "eth_blockNumber": result = "\"0x" + String(current.head, radix: 16) + "\""
        case "eth_chainId": result = "\"0x" + String(current.chainID, radix: 16) + "\""
        case "eth_syncing": result = current.syncing ? "true" : "false"
        case "eth_getBlockByNumber" where text.contains(#""params":["latest",true]"#):
            result = largeLatestBlock(current.head)
        default: return nil
        }
        return ByteBuffer(string: #"{"jsonrpc":"2.0","id":"# + id + #","result":"# + result + "}")
    }

    /// The latest block with full transaction objects, about 20 KB of JSON like a busy mainnet
    /// block's first page (benchmarks' large answer); built once per head.
    func largeLatestBlock(_ head: UInt64) -> String {
        if let (number, json) = largeBlock.withLock({ $0 }), number == head { return json }
        var block = Self.header(head)
        block["transactions"] = (0..<19).map { Self.transaction(block: head, index: $0) }
        let data = (try? JSONSerialization.data(withJSONObject: block, options: [.sortedKeys])) ?? Data()
        let json = String(decoding: data, as: UTF8.self)
        largeBlock.withLock { $0 = (head, json) }
        return json
    }

    /// A plausible EIP-1559 transaction (fields derived from the block and index).
    static func transaction(block: UInt64, index: Int) -> [String: Any] {
        func hex(_ value: UInt64, digits: Int) -> String {
            let text = String(value, radix: 16)
            return "0x" + String(repeating: "0", count: max(0, digits - text.count)) + text
        }
        let seed = block &* 1000 &+ UInt64(index)
        return [
            "blockHash": hex(block, digits: 64), "blockNumber": "0x" + String(block, radix: 16), "from": hex(seed &* 7, digits: 40),
            "gas": "0x5208", "gasPrice": "0x3b9aca07", "maxFeePerGas": "0x77359400", "maxPriorityFeePerGas": "0x3b9aca00",
            "hash": hex(seed, digits: 64), "input": "0xa9059cbb" + String(repeating: "00000000000000000000000000000000deadbeef", count: 10),
            "nonce": "0x" + String(seed % 5000, radix: 16), "to": hex(seed &* 13, digits: 40),
            "transactionIndex": "0x" + String(index, radix: 16), "value": "0xde0b6b3a7640000", "type": "0x2", "accessList": [String](),
            "chainId": "0x1", "v": "0x1", "yParity": "0x1", "r": hex(seed &* 31, digits: 64), "s": hex(seed &* 37, digits: 64),
        ]
    }

    /// A plausible header for block `number` (hashes derived from the number).
    static func header(_ number: UInt64) -> [String: Any] {
        func hash(_ value: UInt64) -> String { "0x" + String(repeating: "0", count: 48) + String(value, radix: 16).leftPadded16 }
        let zero = "0x" + String(repeating: "0", count: 64)
        return [
            "number": "0x" + String(number, radix: 16), "hash": hash(number), "parentHash": hash(number &- 1), "nonce": "0x0000000000000000",
            "sha3Uncles": zero, "logsBloom": "0x" + String(repeating: "0", count: 512), "transactionsRoot": zero, "stateRoot": zero,
            "receiptsRoot": zero, "miner": "0x" + String(repeating: "0", count: 40), "difficulty": "0x0", "extraData": "0x",
            "gasLimit": "0x1c9c380", "gasUsed": "0x0", "timestamp": "0x" + String(1_700_000_000 + number * 12, radix: 16),
            "baseFeePerGas": "0x7", "mixHash": zero, "transactions": [String](), "uncles": [String](), "size": "0x220",
        ]
    }

    /// The answer to one request object (`nil` for a notification).
    func answer(_ object: [String: Any]) -> [String: Any]? {
        let method = object["method"] as? String ?? ""
        let current = state.withLock { state in
            state.calls[method, default: 0] += 1
            return state
        }
        guard object.keys.contains("id") else { return nil }
        let id = object["id"] ?? NSNull()
        func result(_ value: Any) -> [String: Any] { ["jsonrpc": "2.0", "id": id, "result": value] }
        switch method {
        case "eth_chainId": return result("0x" + String(current.chainID, radix: 16))
        case "eth_blockNumber": return result("0x" + String(current.head, radix: 16))
        case "eth_syncing":
            return result(current.syncing ? ["currentBlock": "0x" + String(current.head, radix: 16)] as Any : false)
        case "web3_clientVersion": return result("fake/\(current.name)")
        case "net_version": return result(String(current.chainID))
        case "eth_getBalance": return result("0xde0b6b3a7640000")
        case "eth_echo": return result(object["params"] ?? NSNull())
        case "eth_sendTransaction": return result("0x" + String(repeating: "ab", count: 32))
        case "eth_getBlockByNumber":
            guard let params = object["params"] as? [Any], let text = params.first as? String,
                let number = text == "latest" ? current.head : UInt64(text.dropFirst(2), radix: 16), number <= current.head
            else { return result(NSNull()) }
            state.withLock { state in
                if state.blockServedAt[number] == nil { state.blockServedAt[number] = .now }
            }
            return result(Self.header(number))
        default:
            return ["jsonrpc": "2.0", "id": id, "error": ["code": -32601, "message": "the method \(method) does not exist/is not available"]]
        }
    }
}

final class FakeNodeHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let node: FakeNode
    var body = ByteBuffer()

    init(node: FakeNode) {
        self.node = node
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            body.clear()
            if !node.snapshot.fast {
                let headers = Dictionary(head.headers.map { ($0.name.lowercased(), $0.value) }, uniquingKeysWith: { _, last in last })
                node.update { $0.lastHeaders = headers }
            }
        case .body(var chunk): body.writeBuffer(&chunk)
        case .end:
            let request = body
            let state = node.snapshot
            let loop = context.eventLoop
            if state.delay > .zero {
                let boxed = NIOLoopBound((self, context), eventLoop: loop)
                let delay = TimeAmount(state.delay)
                loop.scheduleTask(in: delay) {
                    boxed.value.0.respond(boxed.value.1, state: state, request: request)
                }
            } else {
                respond(context, state: state, request: request)
            }
        }
    }

    func respond(_ context: ChannelHandlerContext, state: FakeNode.State, request: ByteBuffer) {
        switch state.mode {
        case .hang: return
        case .drop:
            context.close(promise: nil)
            return
        case .http500:
            write(context, status: .internalServerError, body: ByteBuffer(string: "internal error"))
        case .garbage:
            write(context, status: .ok, body: ByteBuffer(string: "<html>oops, not json"))
        case .normal:
            if state.fast, let answer = node.fastAnswer(request) {
                write(context, status: .ok, body: answer, close: state.closeAfterAnswer)
                return
            }
            let parsed = try? JSONSerialization.jsonObject(with: Data(buffer: request), options: [.fragmentsAllowed])
            var output: Any?
            if let object = parsed as? [String: Any] {
                output = node.answer(object)
            } else if let batch = parsed as? [[String: Any]] {
                output = batch.compactMap(node.answer)
            } else {
                output = ["jsonrpc": "2.0", "id": NSNull(), "error": ["code": -32700, "message": "parse error"]]
            }
            guard let output, let data = try? JSONSerialization.data(withJSONObject: output) else {
                write(context, status: .ok, body: ByteBuffer(), close: state.closeAfterAnswer)
                return
            }
            write(context, status: .ok, body: ByteBuffer(bytes: data), close: state.closeAfterAnswer)
        }
    }

    func write(_ context: ChannelHandlerContext, status: HTTPResponseStatus, body: ByteBuffer, close: Bool = false) {
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "application/json")
        headers.add(name: "content-length", value: String(body.readableBytes))
        if close { headers.add(name: "connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if close {
            let channel = context.channel
            done.whenComplete { _ in channel.close(promise: nil) }
        }
    }
}

extension String {
    /// Left-padded with zeros to 16 characters.
    var leftPadded16: String { count >= 16 ? self : String(repeating: "0", count: 16 - count) + self }
}
