import HeadwayCore
import HummingbirdWSClient
import JSONRPC
import Logging
import NIOCore
import ServiceLifecycle

/// A network's WebSocket `newHeads` feeds: for every upstream with a `ws` URL, one connection,
/// kept alive with pings and reconnected with backoff, subscribed to `newHeads`. A pushed head
/// raises what the gateway knows of the head (for an upstream in rotation) and wakes the
/// subscription hub, so clients get a block as soon as a node announces it rather than at the
/// next poll. Health rounds and every request still go over HTTP; the feeds only speed things up,
/// and the hub's polling carries on when they are down.
public struct UpstreamHeadFeeds: Service {
    let router: NetworkRouter
    let hub: SubscriptionHub
    let logger: Logger

    public init(router: NetworkRouter, hub: SubscriptionHub, logger: Logger) {
        self.router = router
        self.hub = hub
        self.logger = logger
    }

    public func run() async throws {
        var feeds: [String: (url: String, task: Task<Void, Never>)] = [:]
        // Upstreams come and go through the admin API: the feeds follow, once a second.
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            let wanted = Dictionary(router.pushFeeds().map { ($0.handle.name, ($0.handle, $0.url)) }, uniquingKeysWith: { first, _ in first })
            for (name, feed) in feeds where wanted[name]?.1 != feed.url {
                feed.task.cancel()
                feeds[name] = nil
            }
            for (name, (handle, url)) in wanted where feeds[name] == nil {
                feeds[name] = (url, Task { await follow(handle, url: url) })
            }
            try? await Task.sleep(for: .seconds(1))
        }
        for feed in feeds.values {
            feed.task.cancel()
            await feed.task.value
        }
    }

    /// One upstream's feed, until cancelled.
    func follow(_ handle: UpstreamHandle, url: String) async {
        let redacted = URLRedactor.redact(url)
        var backoff = Duration.milliseconds(500)
        while !Task.isCancelled {
            handle.setPushFeedState(.connecting)
            do {
                try await WebSocketClient.connect(
                    url: url, configuration: .init(maxFrameSize: 1 << 22, autoPing: .enabled(timePeriod: .seconds(15))), logger: logger
                ) { inbound, outbound, _ in
                    try await outbound.write(.text(#"{"jsonrpc":"2.0","id":1,"method":"eth_subscribe","params":["newHeads"]}"#))
                    for try await message in inbound.messages(maxSize: 1 << 22) {
                        let body: ByteBuffer
                        switch message {
                        case .text(let text): body = ByteBuffer(string: text)
                        case .binary(let buffer): body = buffer
                        }
                        guard let members = JSONMembers.object(body) else { continue }
                        if let number = Self.pushedHead(members) {
                            router.observePushedHead(number, upstream: handle.name)
                            hub.wake()
                        } else if members.contains(where: { $0.key == "result" }) {
                            handle.setPushFeedState(.subscribed)
                            logger.debug("newHeads feed subscribed", metadata: ["upstream": "\(handle.name)", "ws": "\(redacted)"])
                        } else if members.contains(where: { $0.key == "error" }) {
                            logger.warning("upstream refused eth_subscribe newHeads", metadata: ["upstream": "\(handle.name)", "ws": "\(redacted)"])
                            return
                        }
                    }
                }
            } catch {
                logger.debug(
                    "newHeads feed lost", metadata: ["upstream": "\(handle.name)", "ws": "\(redacted)", "error": "\(URLRedactor.scrub("\(error)", url: url))"])
            }
            // A feed that got as far as subscribing starts its backoff over.
            if handle.pushFeedState == .subscribed { backoff = .milliseconds(500) }
            handle.setPushFeedState(.disconnected)
            if Task.isCancelled { return }
            try? await Task.sleep(for: backoff)
            backoff = min(backoff * 2, .seconds(30))
        }
    }

    /// The block number of an `eth_subscription` notification carrying a header.
    static func pushedHead(_ members: [(key: String, value: ByteBuffer)]) -> UInt64? {
        guard JSONMembers.string("method", in: members) == "eth_subscription",
            let params = members.first(where: { $0.key == "params" }).flatMap({ JSONMembers.object($0.value) }),
            let result = params.first(where: { $0.key == "result" }).flatMap({ JSONMembers.object($0.value) }),
            let number = JSONMembers.string("number", in: result)
        else { return nil }
        return Hex.uint64(number)
    }
}
