import JSONRPC
import Logging
import NIOCore

/// The JSON-RPC endpoint's logic, independent of the HTTP server: parses a client body, applies
/// limits and policy, forwards each request to its network, and assembles the reply.
public final class Gateway: Sendable {
    public let networks: [String: NetworkRouter]
    /// Each network's `eth_subscribe` streams (WebSocket clients only).
    public let hubs: [String: SubscriptionHub]
    /// Network names in configuration order.
    public let networkNames: [String]
    let methods: MethodTable
    let maxBatch: Int
    let logger: Logger

    public init(networks: [NetworkRouter], server: ServerConfig, logger: Logger = Logger(label: "headway")) {
        self.networks = Dictionary(uniqueKeysWithValues: networks.map { ($0.name, $0) })
        self.hubs = Dictionary(uniqueKeysWithValues: networks.map { ($0.name, SubscriptionHub(router: $0, logger: logger)) })
        self.networkNames = networks.map(\.name)
        self.methods = MethodTable(blocked: server.blockedMethods)
        self.maxBatch = server.maxBatch
        self.logger = logger
    }

    /// The network that `/` reaches: the only one, when exactly one is configured.
    public var defaultNetwork: NetworkRouter? {
        networkNames.count == 1 ? networks[networkNames[0]] : nil
    }

    /// The network a request path reaches (`/{network}`, or `/` with one network), if any.
    public func network(forPath path: String) -> NetworkRouter? {
        let trimmed = path.firstIndex(of: "?").map { path[..<$0] } ?? path[...]
        if trimmed == "/" || trimmed.isEmpty { return defaultNetwork }
        let name = trimmed.dropFirst()
        guard !name.contains("/") else { return nil }
        return networks[String(name)]
    }

    /// What the HTTP layer sends back.
    public struct Reply: Sendable {
        /// HTTP status.
        public var status: Int
        /// The body; `nil` when every request was a notification.
        public var body: ByteBuffer?
        /// The upstream that answered a single request, and how many attempts it took.
        public var upstream: String?
        public var attempts: Int = 0
        /// For a single cacheable request: whether the cache answered it.
        public var cache: ResponseCache.Result?

        public init(status: Int, body: ByteBuffer? = nil, upstream: String? = nil, attempts: Int = 0, cache: ResponseCache.Result? = nil) {
            self.status = status
            self.body = body
            self.upstream = upstream
            self.attempts = attempts
            self.cache = cache
        }
    }

    /// Handles one client body for `network`; `session` is the WebSocket connection it came on
    /// (subscriptions need one).
    public func handle(_ body: ByteBuffer, network: NetworkRouter, session: (any SubscriptionSink)? = nil) async -> Reply {
        switch Self.parse(body) {
        case .success(let parsed): await handle(parsed, network: network, session: session)
        case .failure(let unparsable): unparsable.reply
        }
    }

    /// A body that is not JSON-RPC, and its reply.
    struct Unparsable: Error {
        let reply: Reply
    }

    static func parse(_ body: ByteBuffer) -> Result<JSONRPCBody, Unparsable> {
        do {
            return .success(try JSONRPCBody.parse(body))
        } catch {
            return .failure(Unparsable(reply: Reply(status: 200, body: error.response(id: .null))))
        }
    }

    func handle(_ parsed: JSONRPCBody, network: NetworkRouter, session: (any SubscriptionSink)?) async -> Reply {
        switch parsed {
        case .single(let item):
            return await handle(item, network: network, session: session)
        case .batch(let items):
            guard items.count <= maxBatch else {
                return Reply(
                    status: 200, body: JSONRPCError.limitExceeded("batch of \(items.count) requests exceeds max_batch \(maxBatch)").response(id: .null))
            }
            return await handle(batch: items, network: network, session: session)
        }
    }

    func handle(_ item: JSONRPCItem, network: NetworkRouter, session: (any SubscriptionSink)?) async -> Reply {
        let request: JSONRPCRequest
        switch item {
        case .invalid(let id, let error):
            return Reply(status: 200, body: error.response(id: id ?? .null))
        case .request(let valid):
            request = valid
        }
        if methods.isBlocked(request.method) {
            if request.isNotification { return Reply(status: 204) }
            return Reply(status: 200, body: JSONRPCError.methodNotSupported(request.method).response(id: request.id))
        }
        if let session, let hub = hubs[network.name], request.method == "eth_subscribe" || request.method == "eth_unsubscribe" {
            guard let id = request.id else { return Reply(status: 204) }
            return Reply(status: 200, body: Self.subscription(request, id: id, hub: hub, session: session))
        }
        // Read once, for the cache and the routing.
        let requirement = BlockRequirement.of(method: request.method, params: request.params)
        let outcome: ForwardOutcome
        var cache: ResponseCache.Result?
        if let cached = await network.cache?.answer(
            request, requirement: requirement, head: network.head, forward: { await network.forward(request, requirement: requirement) })
        {
            (outcome, cache) = cached
        } else {
            outcome = await network.forward(request, requirement: requirement)
        }
        return Self.reply(to: request, outcome: outcome, cache: cache)
    }

    /// The reply for one request that was forwarded (or answered from the cache).
    static func reply(to request: JSONRPCRequest, outcome: ForwardOutcome, cache: ResponseCache.Result?) -> Reply {
        switch outcome {
        case .answered(let response, let upstream, let attempts):
            guard let id = request.id else { return Reply(status: 204, upstream: upstream, attempts: attempts) }
            // An answer from the cache came from no upstream now.
            return Reply(status: 200, body: response.body(withID: id), upstream: cache == .hit ? nil : upstream, attempts: attempts, cache: cache)
        case .delivered(let upstream, let attempts):
            return Reply(status: 204, upstream: upstream, attempts: attempts)
        case .unavailable(let reason, let attempts):
            if request.isNotification { return Reply(status: 204, attempts: attempts) }
            return Reply(status: 503, body: JSONRPCError.resourceUnavailable(reason).response(id: request.id), attempts: attempts)
        }
    }

    /// ``handle(_:network:session:)`` for a body read on the event loop `loop`: the reply goes to
    /// `receiver` there (called once; at once for an answer from the cache or a body that is not
    /// JSON-RPC). A single read is answered without a task: from the cache, or forwarded from
    /// `loop` (``NetworkRouter/forwardOnLoop(_:requirement:on:hedgeTimer:)``; `hedgeTimer` is the
    /// client connection's); everything else (batches, writes, filters, a cacheable request not in
    /// the cache) goes on in a task with the body as parsed here.
    public func handleOnLoop(
        _ body: ByteBuffer, network: NetworkRouter, on loop: any EventLoop, hedgeTimer: SequentialTimer, to receiver: any LoopReceiver<Reply>
    ) {
        let parsed: JSONRPCBody
        switch Self.parse(body) {
        case .success(let body): parsed = body
        case .failure(let unparsable):
            receiver.receive(unparsable.reply)
            return
        }
        if case .single(.request(let request)) = parsed, request.id != nil, !methods.isBlocked(request.method),
            answerOnLoop(request, network: network, on: loop, hedgeTimer: hedgeTimer, to: receiver)
        {
            return
        }
        loop.makeFutureWithTask { await self.handle(parsed, network: network, session: nil) }.deliver(to: receiver)
    }

    /// A single read from the cache or forwarded from `loop`; false when it cannot be answered
    /// there (and `receiver` is not called).
    func answerOnLoop(
        _ request: JSONRPCRequest, network: NetworkRouter, on loop: any EventLoop, hedgeTimer: SequentialTimer, to receiver: any LoopReceiver<Reply>
    ) -> Bool {
        let requirement = BlockRequirement.of(method: request.method, params: request.params)
        switch network.cache?.peek(request, requirement: requirement, head: network.head) {
        case .hit(let outcome):
            receiver.receive(Self.reply(to: request, outcome: outcome, cache: .hit))
            return true
        case .miss:
            return false
        case .notCacheable, nil:
            // `Gateway`, not `Self`: a closure that names `Self` captures it, in a context
            // allocated per request.
            return network.forwardOnLoop(request, requirement: requirement, on: loop, hedgeTimer: hedgeTimer) { request, outcome in
                Gateway.reply(to: request, outcome: outcome, cache: nil)
            } to: {
                receiver
            }
        }
    }

    /// Each item is handled on its own, concurrently; the reply keeps the request order and
    /// leaves out notifications.
    func handle(batch items: [JSONRPCItem], network: NetworkRouter, session: (any SubscriptionSink)?) async -> Reply {
        let replies = await withTaskGroup(of: (Int, Reply).self) { group in
            for (index, item) in items.enumerated() {
                group.addTask { (index, await self.handle(item, network: network, session: session)) }
            }
            var replies = [Reply?](repeating: nil, count: items.count)
            for await (index, reply) in group { replies[index] = reply }
            return replies
        }
        var output = ByteBuffer()
        output.writeStaticString("[")
        var first = true
        for reply in replies {
            guard var body = reply?.body else { continue }
            if !first { output.writeStaticString(",") }
            first = false
            output.writeBuffer(&body)
        }
        if first { return Reply(status: 204) }
        output.writeStaticString("]")
        return Reply(status: 200, body: output)
    }

    /// `eth_subscribe` and `eth_unsubscribe` on a WebSocket connection.
    static func subscription(_ request: JSONRPCRequest, id: RawJSON, hub: SubscriptionHub, session: any SubscriptionSink) -> ByteBuffer {
        let result: Result<String, JSONRPCError>
        if request.method == "eth_subscribe" {
            if session.reserveSubscription() {
                result = hub.subscribe(params: request.params, sink: session).map { JSONString.quoted($0) }
                if case .failure = result { session.releaseSubscription() }
            } else {
                result = .failure(JSONRPCError.limitExceeded("this connection holds the most subscriptions allowed (server.ws.max_subscriptions)"))
            }
        } else {
            let subscription = request.params.flatMap { JSONMembers.array($0.bytes)?.first }.flatMap(JSONMembers.stringValue)
            let removed = subscription.map { hub.unsubscribe($0, sink: session) } ?? false
            if removed { session.releaseSubscription() }
            result = .success(removed ? "true" : "false")
        }
        switch result {
        case .success(let raw):
            return JSONRPCResponse.resultBody(id: id, result: raw)
        case .failure(let error):
            return error.response(id: id)
        }
    }
}
