import Foundation
import HeadwayCore
import HeadwayTesting
import HummingbirdWSClient
import Logging
import NIOCore
import Synchronization

/// `wsbench NODE_PORT WS_URL CLIENTS ROUNDS`: the WebSocket fan-out benchmark (see bench/).
///
/// Runs a fake node on NODE_PORT (Headway is started in front of it by the script), connects
/// CLIENTS WebSocket clients to Headway at WS_URL, each subscribed to `newHeads`, then ROUNDS
/// times raises the node's head by one block and records when each client receives it. Delays
/// are measured from the moment the node first served that block to Headway (Headway has the
/// head) and from the moment the head was raised (including Headway's poll). Clients connect
/// once a line arrives on standard input (Headway is up); it prints the table, then `DONE`, and
/// keeps the clients connected until its standard input closes.
@main
struct WebSocketBench {
    /// Arrival times by block number.
    final class Arrivals: Sendable {
        let times = Mutex<[UInt64: [ContinuousClock.Instant]]>([:])
        let subscribed = Atomic<Int>(0)
        let failed = Atomic<Int>(0)

        func record(_ number: UInt64) {
            let now = ContinuousClock.now
            times.withLock { $0[number, default: []].append(now) }
        }

        func count(_ number: UInt64) -> Int { times.withLock { $0[number]?.count ?? 0 } }
    }

    static func main() async throws {
        let arguments = CommandLine.arguments
        guard arguments.count == 5, let nodePort = Int(arguments[1]), let clients = Int(arguments[3]), let rounds = Int(arguments[4]) else {
            FileHandle.standardError.write(Data("usage: wsbench NODE_PORT WS_URL CLIENTS ROUNDS\n".utf8))
            exit(2)
        }
        let url = arguments[2]
        let node = try await FakeNode.start(name: "bench", head: 1000, port: nodePort)
        say("node listening on \(node.url)")
        let logger: Logger = {
            var logger = Logger(label: "wsbench")
            logger.logLevel = .critical
            return logger
        }()
        let arrivals = Arrivals()
        // The script says when Headway is up.
        _ = readLine()

        try await withThrowingTaskGroup(of: Void.self) { group in
            // Clients connect in waves so that the listener's backlog is never overrun.
            for index in 0..<clients {
                if index % 250 == 0, index > 0 {
                    while arrivals.subscribed.load(ordering: .relaxed) + arrivals.failed.load(ordering: .relaxed) < index {
                        try await Task.sleep(for: .milliseconds(20))
                    }
                }
                group.addTask { [logger] in await client(url: url, arrivals: arrivals, logger: logger) }
            }
            let clock = ContinuousClock()
            let deadline = clock.now.advanced(by: .seconds(120))
            while arrivals.subscribed.load(ordering: .relaxed) + arrivals.failed.load(ordering: .relaxed) < clients, clock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
            }
            let subscribed = arrivals.subscribed.load(ordering: .relaxed)
            say("\(subscribed) of \(clients) clients subscribed (\(arrivals.failed.load(ordering: .relaxed)) failed)")
            try await Task.sleep(for: .seconds(1))

            var fromServed: [Double] = []
            var fromRaised: [Double] = []
            var incomplete = 0
            for _ in 0..<rounds {
                let number = node.snapshot.head + 1
                let raised = clock.now
                node.update { $0.head = number }
                let roundDeadline = clock.now.advanced(by: .seconds(10))
                while arrivals.count(number) < subscribed, clock.now < roundDeadline {
                    try await Task.sleep(for: .milliseconds(2))
                }
                let times = arrivals.times.withLock { $0[number] ?? [] }
                if times.count < subscribed { incomplete += 1 }
                let served = node.snapshot.blockServedAt[number] ?? raised
                fromServed += times.map { milliseconds(served.duration(to: $0)) }
                fromRaised += times.map { milliseconds(raised.duration(to: $0)) }
                try await Task.sleep(for: .milliseconds(300))
            }
            say("")
            say("| delay to each subscribed client | p50 ms | p99 ms | max ms |")
            say("| --- | ---: | ---: | ---: |")
            say("| from Headway receiving the head | \(format(fromServed, 0.5)) | \(format(fromServed, 0.99)) | \(format(fromServed, 1)) |")
            say("| from the node's head moving (includes the poll) | \(format(fromRaised, 0.5)) | \(format(fromRaised, 0.99)) | \(format(fromRaised, 1)) |")
            say("")
            say("\(rounds) blocks x \(subscribed) clients; rounds where a client missed the block: \(incomplete)")
            say("DONE")
            // Hold the connections while the script reads Headway's memory; stop when stdin closes.
            while readLine() != nil {}
            exit(0)
        }
    }

    static func client(url: String, arrivals: Arrivals, logger: Logger) async {
        do {
            try await WebSocketClient.connect(url: url, configuration: .init(maxFrameSize: 1 << 20), logger: logger) { inbound, outbound, _ in
                try await outbound.write(.text(#"{"jsonrpc":"2.0","id":1,"method":"eth_subscribe","params":["newHeads"]}"#))
                // Frames as bytes (Headway sends each message in one frame): the client's own
                // cost per message is kept small, since it shares the machine with Headway.
                for try await frame in inbound {
                    if let number = blockNumber(in: frame.data) {
                        arrivals.record(number)
                    } else {
                        arrivals.subscribed.add(1, ordering: .relaxed)
                    }
                }
            }
        } catch {
            arrivals.failed.add(1, ordering: .relaxed)
        }
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

    /// A line on standard output, unbuffered (the script waits for some of them).
    static func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    static func milliseconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
    }

    static func format(_ values: [Double], _ quantile: Double) -> String {
        guard !values.isEmpty else { return "n/a" }
        let sorted = values.sorted()
        return String(format: "%.1f", sorted[min(sorted.count - 1, Int((quantile * Double(sorted.count - 1)).rounded()))])
    }
}
