import Foundation
import HeadwayCore
import HeadwayTesting
import JSONRPC
import NIOCore
import Synchronization
import Testing

/// A client connection that records what it is sent (and can be made to have no room).
final class RecordingSink: SubscriptionSink {
    let messages = Mutex<[[String: Any]]>([])
    let room: Int

    init(room: Int = .max) {
        self.room = room
    }

    func deliver(_ message: ByteBuffer) -> Bool {
        messages.withLock { messages in
            guard messages.count < room else { return false }
            let object = try? JSONSerialization.jsonObject(with: Data(buffer: message)) as? [String: Any]
            messages.append(object ?? [:])
            return true
        }
    }

    /// The notifications this sink was given, by identity (shared ones are the same object).
    let notified = Mutex<[ObjectIdentifier]>([])

    func notify(_ notification: SubscriptionNotification) -> Bool {
        notified.withLock { $0.append(ObjectIdentifier(notification)) }
        return deliver(notification.message)
    }

    func reserveSubscription() -> Bool { true }
    func releaseSubscription() {}

    /// The `result` of every notification for `subscription`.
    func results(_ subscription: String) -> [Any] {
        messages.withLock { messages in
            messages.compactMap { message in
                guard let params = message["params"] as? [String: Any], params["subscription"] as? String == subscription else { return nil }
                return params["result"]
            }
        }
    }

    func numbers(_ subscription: String) -> [String] {
        results(subscription).compactMap { ($0 as? [String: Any])?["number"] as? String }
    }
}

/// A node whose chain grows when told: blocks `0x<n>` with hash `0xh<n>`, one log per block.
final class ChainNode: Sendable {
    let head = Atomic<UInt64>(10)
    /// A block number whose header the node fails to give (0: none).
    let failing = Atomic<UInt64>(0)
    let logCalls = Atomic<Int>(0)
    let transport: ScriptedTransport

    init() {
        transport = ScriptedTransport { _, _ throws(UpstreamFailure) in "" }
        transport.set { [unowned self] method, body throws(UpstreamFailure) in try await self.answer(method, body) }
    }

    func answer(_ method: String, _ body: String) async throws(UpstreamFailure) -> String {
        let id = ScriptedTransport.id(in: body)
        let current = head.load(ordering: .relaxed)
        let request = (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any]
        let params = request?["params"] as? [Any] ?? []
        func reply(_ result: String) -> String { #"{"jsonrpc":"2.0","id":\#(id),"result":\#(result)}"# }
        switch method {
        case "eth_getBlockByNumber":
            guard let text = params.first as? String, let number = Hex.uint64(text), number <= current else { return reply("null") }
            if number == failing.load(ordering: .relaxed) { throw UpstreamFailure(.connectionClosed, "reset") }
            return reply(#"{"number":"\#(text)","hash":"0xh\#(number)","transactions":["0xt"],"size":"0x1","uncles":[]}"#)
        case "eth_getLogs":
            logCalls.add(1, ordering: .relaxed)
            guard let filter = params.first as? [String: Any], let text = filter["fromBlock"] as? String, let number = Hex.uint64(text) else {
                return reply("[]")
            }
            return reply(#"[{"blockNumber":"\#(text)","blockHash":"0xh\#(number)","logIndex":"0x0","address":"\#(filter["address"] as? String ?? "")"}]"#)
        default:
            return try await ScriptedTransport.healthy("chain", head: current)(method, body)
        }
    }
}

@Suite struct SubscriptionHubTests {
    let chain = ChainNode()

    func hub() async -> SubscriptionHub {
        let router = await RouterFixture.network([("chain", .primary, chain.transport)]) { $0.request.maxAttempts = 1 }
        return SubscriptionHub(router: router)
    }

    func subscribe(_ hub: SubscriptionHub, _ params: String, _ sink: RecordingSink) -> String {
        guard case .success(let id) = hub.subscribe(params: RawJSON(params), sink: sink) else {
            Issue.record("subscribe \(params) failed")
            return ""
        }
        return id
    }

    @Test func newHeadsSeesEveryBlockOnceInOrderAsAHeader() async {
        let hub = await hub()
        let sink = RecordingSink()
        let id = subscribe(hub, #"["newHeads"]"#, sink)
        #expect(id.hasPrefix("0x") && id.count == 34)
        await hub.tick()
        #expect(sink.numbers(id) == [], "the stream starts after the current head")
        chain.head.store(13, ordering: .relaxed)
        await hub.tick()
        #expect(sink.numbers(id) == ["0xb", "0xc", "0xd"])
        let header = sink.results(id).first as? [String: Any]
        #expect(header?["hash"] as? String == "0xh11")
        #expect(header?["transactions"] == nil && header?["size"] == nil && header?["uncles"] == nil)
        await hub.tick()
        #expect(sink.numbers(id).count == 3, "nothing twice")
    }

    @Test func aBlockThatCannotBeHadStopsTheStreamUntilItCan() async {
        let hub = await hub()
        let sink = RecordingSink()
        let id = subscribe(hub, #"["newHeads"]"#, sink)
        await hub.tick()
        chain.failing.store(12, ordering: .relaxed)
        chain.head.store(14, ordering: .relaxed)
        await hub.tick()
        #expect(sink.numbers(id) == ["0xb"])
        chain.failing.store(0, ordering: .relaxed)
        await hub.tick()
        #expect(sink.numbers(id) == ["0xb", "0xc", "0xd", "0xe"], "no gap, no repeat")
    }

    @Test func logsAreFetchedOncePerBlockAndFilterAndFollowTheirHeader() async {
        let hub = await hub()
        let first = RecordingSink()
        let second = RecordingSink()
        let filter = #"["logs",{"address":"0xabc","fromBlock":"0x0"}]"#
        let a = subscribe(hub, filter, first)
        let b = subscribe(hub, #"["logs",{"address":"0xabc"}]"#, second)
        let heads = subscribe(hub, #"["newHeads"]"#, first)
        await hub.tick()
        chain.head.store(12, ordering: .relaxed)
        await hub.tick()
        #expect(chain.logCalls.load(ordering: .relaxed) == 2, "one eth_getLogs per block for the shared filter")
        #expect((first.results(a) as? [[String: Any]])?.map { $0["blockNumber"] as? String } == ["0xb", "0xc"])
        #expect((second.results(b) as? [[String: Any]])?.map { $0["blockHash"] as? String } == ["0xh11", "0xh12"])
        // The header of a block goes out before its logs.
        let order = first.messages.withLock { $0.compactMap { ($0["params"] as? [String: Any])?["subscription"] as? String } }
        #expect(order == [heads, a, heads, a])
        #expect(hub.unsubscribe(a, sink: first))
        #expect(!hub.unsubscribe(a, sink: first))
        #expect(!hub.unsubscribe(b, sink: first), "only the connection that made it may end it")
        #expect(hub.unsubscribe(b, sink: second))
        chain.head.store(13, ordering: .relaxed)
        await hub.tick()
        #expect(chain.logCalls.load(ordering: .relaxed) == 2, "no filter left, no eth_getLogs")
        #expect(first.numbers(heads) == ["0xb", "0xc", "0xd"])
    }

    @Test func idsAreUniqueOnAConnectionAndSharedAcrossConnections() async {
        let hub = await hub()
        let first = RecordingSink()
        let second = RecordingSink()
        let heads = subscribe(hub, #"["newHeads"]"#, first)
        let moreHeads = subscribe(hub, #"["newHeads"]"#, first)
        let logs = subscribe(hub, #"["logs",{"address":"0xabc"}]"#, first)
        #expect(Set([heads, moreHeads, logs]).count == 3, "a connection's ids are all different")
        #expect(subscribe(hub, #"["newHeads"]"#, second) == heads, "everyone's first newHeads has the same id")
        #expect(
            SubscriptionHub(router: hub.router).subscribe(params: RawJSON(#"["newHeads"]"#), sink: first) != .success(heads),
            "ids come from a secret of the process")

        await hub.tick()
        chain.head.store(11, ordering: .relaxed)
        await hub.tick()
        #expect(first.numbers(heads) == ["0xb"] && first.numbers(moreHeads) == ["0xb"] && second.numbers(heads) == ["0xb"])
        // One notification for the block, shared by both connections' subscription `heads`.
        let shared = second.notified.withLock { $0 }
        #expect(shared.count == 1 && first.notified.withLock { $0 }.contains(shared[0]))

        // Each connection ends only its own; a freed id is given again.
        #expect(hub.unsubscribe(heads, sink: second))
        chain.head.store(12, ordering: .relaxed)
        await hub.tick()
        #expect(first.numbers(heads) == ["0xb", "0xc"] && second.numbers(heads) == ["0xb"])
        #expect(hub.unsubscribe(heads, sink: first))
        #expect(subscribe(hub, #"["newHeads"]"#, first) == heads)
        hub.drop(first)
        #expect(hub.counts.newHeads == 0 && hub.counts.logs == 0)
    }

    @Test func aClientWithNoRoomLosesItsSubscriptions() async {
        let hub = await hub()
        let full = RecordingSink(room: 1)
        _ = subscribe(hub, #"["newHeads"]"#, full)
        await hub.tick()
        chain.head.store(13, ordering: .relaxed)
        await hub.tick()
        #expect(full.messages.withLock { $0.count } == 1)
        #expect(hub.counts.newHeads == 0)
    }

    @Test func aWakeUpPollsAtOnceInsteadOfAtTheNextInterval() async throws {
        let router = await RouterFixture.network([("chain", .primary, chain.transport)]) { $0.subscriptions.pollInterval = .seconds(60) }
        let hub = SubscriptionHub(router: router)
        let sink = RecordingSink()
        let id = subscribe(hub, #"["newHeads"]"#, sink)
        let asked = chain.transport.methods.count
        let running = Task { try await hub.run() }
        defer { running.cancel() }
        // The first poll sets where the stream starts (waited for, not guessed: a loaded machine
        // may take longer than any fixed pause); the next block comes with a wake-up.
        let clock = ContinuousClock()
        let firstPoll = clock.now.advanced(by: .seconds(5))
        while chain.transport.methods.count == asked, clock.now < firstPoll { try await Task.sleep(for: .milliseconds(5)) }
        try await Task.sleep(for: .milliseconds(50))
        chain.head.store(11, ordering: .relaxed)
        hub.wake()
        let deadline = clock.now.advanced(by: .seconds(5))
        while sink.numbers(id).isEmpty, clock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        #expect(sink.numbers(id) == ["0xb"], "delivered long before the 60 s poll")
    }

    @Test(arguments: ["[]", #"["newBlocks"]"#, #"["logs", 5]"#, "{}"])
    func badSubscriptionsAreInvalidParams(params: String) async {
        let hub = await hub()
        guard case .failure(let error) = hub.subscribe(params: RawJSON(params), sink: RecordingSink()) else {
            Issue.record("accepted \(params)")
            return
        }
        #expect(error.code == -32602)
    }
}
