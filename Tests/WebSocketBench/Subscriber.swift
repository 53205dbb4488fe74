import HeadwayCore
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket
import Synchronization

/// What the clients have seen, for the benchmark's main loop.
final class Counters: Sendable {
    let subscribed = Atomic<Int>(0)
    let failed = Atomic<Int>(0)
    /// Headers received by all clients together.
    let received = Atomic<Int>(0)
}

/// The arrivals recorded by the clients of one event loop; touched only on that loop.
final class Arrivals: @unchecked Sendable {
    var times: [(number: UInt64, at: ContinuousClock.Instant)] = []
}

/// One benchmark client, a plain NIO channel handler (no task per connection or per message: the
/// clients share the machine with Headway, so their own cost per message is kept small). Once
/// upgraded it subscribes to `newHeads`; then it records when each header arrives and answers
/// the server's pings.
final class Subscriber: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    let arrivals: Arrivals
    let counters: Counters
    var subscribed = false

    init(arrivals: Arrivals, counters: Counters) {
        self.arrivals = arrivals
        self.counters = counters
    }

    /// The `eth_subscribe` request, sent once the upgrade is complete.
    static func subscribe(on channel: any Channel) {
        let request = ByteBuffer(string: #"{"jsonrpc":"2.0","id":1,"method":"eth_subscribe","params":["newHeads"]}"#)
        channel.writeAndFlush(WebSocketFrame(fin: true, opcode: .text, maskKey: .random(), data: request), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .text, .binary:
            if let number = Self.blockNumber(in: frame.data) {
                arrivals.times.append((number, .now))
                counters.received.add(1, ordering: .relaxed)
            } else if !subscribed {
                subscribed = true
                counters.subscribed.add(1, ordering: .relaxed)
            }
        case .ping:
            let pong = WebSocketFrame(fin: true, opcode: .pong, maskKey: .random(), data: frame.unmaskedData)
            context.writeAndFlush(wrapOutboundOut(pong), promise: nil)
        case .connectionClose:
            context.close(promise: nil)
        default:
            break
        }
    }

    /// Connects one client to `host:port` at `path`; a failure to connect or upgrade is counted once.
    static func connect(group: any EventLoopGroup, host: String, port: Int, path: String, arrivals: [ObjectIdentifier: Arrivals], counters: Counters) {
        let failed = Atomic<Bool>(false)
        let fail: @Sendable () -> Void = {
            if !failed.exchange(true, ordering: .relaxed) { counters.failed.add(1, ordering: .relaxed) }
        }
        ClientBootstrap(group: group).channelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                let loopArrivals = arrivals[ObjectIdentifier(channel.eventLoop)]!
                let upgrader = NIOTypedWebSocketClientUpgrader<Bool>(maxFrameSize: 1 << 20) { channel, _ in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(Subscriber(arrivals: loopArrivals, counters: counters))
                        return true
                    }
                }
                let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path, headers: ["Host": "\(host):\(port)", "Content-Length": "0"])
                let configuration = NIOTypedHTTPClientUpgradeConfiguration<Bool>(
                    upgradeRequestHead: head, upgraders: [upgrader],
                    notUpgradingCompletionHandler: { channel in channel.eventLoop.makeSucceededFuture(false) })
                let upgraded = try channel.pipeline.syncOperations.configureUpgradableHTTPClientPipeline(
                    configuration: .init(upgradeConfiguration: configuration))
                upgraded.whenComplete { result in
                    guard case .success(true) = result else { return fail() }
                    subscribe(on: channel)
                }
            }
        }.connect(host: host, port: port).whenFailure { _ in fail() }
    }

    static let numberKey = Array(#""number":"0x"#.utf8)

    /// The hex number after `"number":"0x` in a notification, scanning the bytes.
    static func blockNumber(in buffer: ByteBuffer) -> UInt64? {
        buffer.withUnsafeReadableBytes { bytes -> UInt64? in
            let key = numberKey
            guard bytes.count > key.count else { return nil }
            var index = 0
            while index + key.count < bytes.count {
                if bytes[index] == key[0] && bytes[index + 1] == key[1] && bytes[index + 2] == key[2] {
                    var matches = true
                    for offset in 3..<key.count where bytes[index + offset] != key[offset] {
                        matches = false
                        break
                    }
                    if matches {
                        var value: UInt64 = 0
                        var position = index + key.count
                        while position < bytes.count, let digit = Hex.nibble(bytes[position]) {
                            value = value << 4 | UInt64(digit)
                            position += 1
                        }
                        return value
                    }
                }
                index += 1
            }
            return nil
        }
    }
}
