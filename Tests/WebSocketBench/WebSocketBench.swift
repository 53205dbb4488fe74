import Foundation
import HeadwayTesting

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
    static func main() async throws {
        let arguments = CommandLine.arguments
        guard arguments.count == 5, let nodePort = Int(arguments[1]), let target = Target(arguments[2]), let count = Int(arguments[3]),
            let rounds = Int(arguments[4])
        else {
            FileHandle.standardError.write(Data("usage: wsbench NODE_PORT ws://HOST:PORT[/PATH] CLIENTS ROUNDS\n".utf8))
            exit(2)
        }
        let node = try await FakeNode.start(name: "bench", head: 1000, port: nodePort)
        say("node listening on \(node.url)")
        let clients = Subscribers()
        // The script says when Headway is up.
        _ = readLine()
        for _ in 0..<count {
            clients.connect(host: target.host, port: target.port, path: target.path)
        }
        Thread.detachNewThread { clients.read() }
        let clock = ContinuousClock()
        let subscribed = clients.subscribed.load(ordering: .relaxed)
        say("\(subscribed) of \(count) clients subscribed (\(clients.failed.load(ordering: .relaxed)) failed)")
        try await Task.sleep(for: .seconds(1))

        var blocks: [(number: UInt64, raised: ContinuousClock.Instant)] = []
        var incomplete = 0
        for round in 0..<rounds {
            let number = node.snapshot.head + 1
            blocks.append((number, clock.now))
            node.update { $0.head = number }
            let roundDeadline = clock.now.advanced(by: .seconds(10))
            while clients.received.load(ordering: .relaxed) < subscribed * (round + 1), clock.now < roundDeadline {
                try await Task.sleep(for: .milliseconds(2))
            }
            if clients.received.load(ordering: .relaxed) < subscribed * (round + 1) { incomplete += 1 }
            try await Task.sleep(for: .milliseconds(300))
        }

        var times: [UInt64: [ContinuousClock.Instant]] = [:]
        for arrival in clients.arrivals.withLock({ $0 }) { times[arrival.number, default: []].append(arrival.at) }
        var fromServed: [Double] = []
        var fromRaised: [Double] = []
        var lastFromServed: [Double] = []
        for block in blocks {
            let received = times[block.number] ?? []
            let served = node.snapshot.blockServedAt[block.number] ?? block.raised
            fromServed += received.map { milliseconds(served.duration(to: $0)) }
            fromRaised += received.map { milliseconds(block.raised.duration(to: $0)) }
            if let last = received.max() { lastFromServed.append(milliseconds(served.duration(to: last))) }
        }
        say("")
        say("| delay | p50 ms | p99 ms | max ms |")
        say("| --- | ---: | ---: | ---: |")
        say(row("Headway has the head → each client has it", fromServed))
        say(row("Headway has the head → the last client has it (per block)", lastFromServed))
        say(row("the node's head moved → each client has it (adds the poll)", fromRaised))
        say("")
        say("\(rounds) blocks x \(subscribed) clients; rounds where a client missed the block: \(incomplete)")
        say("notification size: \(clients.notificationBytes.load(ordering: .relaxed)) bytes")
        say("DONE")
        // Hold the connections while the script reads Headway's memory; stop when stdin closes.
        while readLine() != nil {}
        exit(0)
    }

    /// `ws://HOST:PORT[/PATH]`.
    struct Target {
        var host: String
        var port: Int
        var path: String

        init?(_ url: String) {
            guard url.hasPrefix("ws://") else { return nil }
            let rest = url.dropFirst(5)
            let authority = rest.prefix { $0 != "/" }
            path = rest.dropFirst(authority.count).isEmpty ? "/" : String(rest.dropFirst(authority.count))
            guard let colon = authority.lastIndex(of: ":"), let port = Int(authority[authority.index(after: colon)...]) else { return nil }
            host = String(authority[..<colon])
            self.port = port
        }
    }

    /// A line on standard output, unbuffered (the script waits for some of them).
    static func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    static func milliseconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
    }

    /// A table row: the label, then p50, p99 and max of `values`.
    static func row(_ label: String, _ values: [Double]) -> String {
        "| \(label) | \(format(values, 0.5)) | \(format(values, 0.99)) | \(format(values, 1)) |"
    }

    static func format(_ values: [Double], _ quantile: Double) -> String {
        guard !values.isEmpty else { return "n/a" }
        let sorted = values.sorted()
        return String(format: "%.1f", sorted[min(sorted.count - 1, Int((quantile * Double(sorted.count - 1)).rounded()))])
    }
}
