import HeadwayCore
import JSONRPC
import NIOCore
import NIOHTTP1
import NIOHTTPTypesHTTP1

/// Serves `POST /{network}` JSON-RPC requests in the HTTP channel itself, ahead of Hummingbird's
/// router (``Gateway/handleOnLoop(_:network:on:hedgeTimer:to:)``): a single read goes upstream
/// from this event loop and its answer is written back here, with no task and no thread hop on the
/// way; any other JSON-RPC body goes on in a task and is answered here too.
/// Everything else (GET, unknown paths, `Expect`, WebSocket upgrades) passes on to Hummingbird,
/// which answers it as before (see ``RPCRoutes``).
///
/// It sits right after NIO's HTTP/1 codec, ahead of the conversion to Swift HTTP Types that
/// Hummingbird's channel adds (``Installer`` puts it there): a request it answers is never
/// converted, and neither is its response.
///
/// Responses stay in request order: a request is only taken while Hummingbird has none in
/// progress on this connection, and parts that arrive while one is being answered (a pipelining
/// client) wait, with reading then paused, until its response is written. A graceful shutdown
/// (`ChannelShouldQuiesceEvent`) waits for that response too.
final class RPCChannelHandler: ChannelDuplexHandler, RemovableChannelHandler, LoopReceiver {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    enum Mode {
        case idle
        /// Passing the current request's parts on to Hummingbird.
        case passing
        /// Reading a JSON-RPC body (nil once it went over `max_body_bytes`).
        case collecting(HTTPRequestHead, NetworkRouter, ByteBuffer?)
        /// Waiting for the reply to write; `close` when the request asked for its connection to be
        /// closed after it.
        case answering(close: Bool)
    }

    let gateway: Gateway
    let maxBodyBytes: Int
    private var mode = Mode.idle
    /// Requests passed to Hummingbird whose response has not been written yet.
    private var passedInProgress = 0
    /// What arrived while a request was being answered: parts, and a decoding error after them.
    enum Arrival {
        case part(HTTPServerRequestPart)
        case error(any Error)
    }
    private var waiting = CircularBuffer<Arrival>()
    private var readPending = false
    /// Set while ``write(_:close:context:)`` replays `waiting`.
    private var replaying = false
    private var quiescePending = false
    /// Whether something was passed on since the last read-complete: only then do the handlers
    /// after this one (Hummingbird's) need theirs.
    private var passedSinceReadComplete = false
    private var date = HTTPDate()
    /// The hedge delay of the request being answered (``SequentialTimer``).
    private var hedgeTimer: SequentialTimer?
    /// Nil once the channel closed (or the handler left): a reply that comes later is dropped.
    private var context: ChannelHandlerContext?

    init(gateway: Gateway, maxBodyBytes: Int) {
        self.gateway = gateway
        self.maxBodyBytes = maxBodyBytes
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if case .answering = mode {
            waiting.append(.part(part))
            return
        }
        read(part, context: context)
    }

    /// A malformed request after one being answered (Hummingbird answers 400 and closes) waits
    /// for that answer, like the parts before it.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if case .answering = mode {
            waiting.append(.error(error))
            return
        }
        passedSinceReadComplete = true
        context.fireErrorCaught(error)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        guard passedSinceReadComplete else { return }
        passedSinceReadComplete = false
        context.fireChannelReadComplete()
    }

    private func pass(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) {
        passedSinceReadComplete = true
        context.fireChannelRead(wrapInboundOut(part))
    }

    private func read(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) {
        switch (mode, part) {
        case (.idle, .head(let head)):
            if passedInProgress == 0, head.method == .POST, !head.headers.contains(name: "expect"),
                let network = gateway.network(forPath: head.uri)
            {
                let declared = head.headers.first(name: "content-length").flatMap(Int.init) ?? 0
                mode = .collecting(head, network, declared > maxBodyBytes ? nil : ByteBuffer())
            } else {
                mode = .passing
                passedInProgress += 1
                pass(part, context: context)
            }
        case (.collecting(let head, let network, var body), .body(var chunk)):
            if body != nil, body!.readableBytes + chunk.readableBytes <= maxBodyBytes {
                mode = .idle  // drops the buffer's other reference before the append
                if body!.readableBytes == 0 {
                    body = chunk  // a body in one chunk (the usual case) is not copied
                } else {
                    body!.writeBuffer(&chunk)
                }
                mode = .collecting(head, network, body)
            } else {
                mode = .collecting(head, network, nil)
            }
        case (.collecting(let head, let network, let body), .end):
            // `Connection: close`, or HTTP/1.0 without `Connection: keep-alive`.
            let close = !head.isKeepAlive
            mode = .answering(close: close)
            answer(network: network, body: body, close: close, context: context)
        case (.passing, .end):
            mode = .idle
            pass(part, context: context)
        default:
            pass(part, context: context)
        }
    }

    private func answer(network: NetworkRouter, body: ByteBuffer?, close: Bool, context: ChannelHandlerContext) {
        guard let body else {
            let tooLarge = Gateway.Reply(status: 413, body: RPCRoutes.tooLargeError(maxBodyBytes).response(id: .null))
            write(tooLarge, close: close, context: context)
            return
        }
        // What goes on in a task is not cancelled when the client goes: a write it sent still
        // reaches a node (or not) as it would have, within the request's deadline.
        let hedgeTimer = self.hedgeTimer ?? SequentialTimer(on: context.eventLoop)
        self.hedgeTimer = hedgeTimer
        // The reply comes back to `receive(_:)`: no promise, no closure.
        gateway.handleOnLoop(body, network: network, on: context.eventLoop, hedgeTimer: hedgeTimer, to: self)
    }

    /// The reply to the request being answered (``LoopReceiver``).
    func receive(_ reply: Gateway.Reply) {
        guard let context, case .answering(let close) = mode else { return }
        write(reply, close: close, context: context)
    }

    private func write(_ reply: Gateway.Reply, close: Bool, context: ChannelHandlerContext) {
        var headers = HTTPHeaders()
        headers.reserveCapacity(8)
        reply.forEachHeader { headers.add(name: $0.rawName, value: $1) }
        // A 204 (every request a notification) has no body and no Content-Length.
        if let body = reply.body { headers.add(name: "Content-Length", value: String(body.readableBytes)) }
        if close { headers.add(name: "Connection", value: "close") }
        headers.add(name: "Date", value: date.now())
        headers.add(name: "Server", value: "headway")
        let status: HTTPResponseStatus = reply.body == nil ? .noContent : .init(statusCode: reply.status)
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        if let body = reply.body { context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        mode = .idle
        if close {
            context.close(promise: nil)
            return
        }
        if quiescePending {
            // Shutting down: Hummingbird closes the connection now that nothing is in progress.
            quiescePending = false
            waiting.removeAll()
            context.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
            return
        }
        // What arrived meanwhile, in order; a request among it may be answered in turn. Parts
        // passed on outside a read cycle need their read-complete too: Hummingbird's channel
        // hands reads to its task only then. A request answered at once (the cache, a 413)
        // writes from inside this loop: the loop one frame up goes on, rather than a new one
        // (hundreds of pipelined requests would otherwise nest that deep).
        if replaying { return }
        if !waiting.isEmpty {
            replaying = true
            defer { replaying = false }
            while !waiting.isEmpty {
                if case .answering = mode { break }
                switch waiting.removeFirst() {
                case .part(let part): read(part, context: context)
                case .error(let error):
                    passedSinceReadComplete = true
                    context.fireErrorCaught(error)
                }
            }
            channelReadComplete(context: context)
        }
        // Reading resumes unless a replayed request is being answered (a request whose body is
        // still coming, or idle).
        if case .answering = mode { return }
        if readPending {
            readPending = false
            context.read()
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        // (Hummingbird also answers a request it could not decode, which was never passed.)
        if case .end = unwrapOutboundIn(data) { passedInProgress = max(0, passedInProgress - 1) }
        context.write(data, promise: promise)
    }

    /// Reading pauses only once something is waiting behind the request being answered (a
    /// pipelining client): holding every read while a request is answered would take the socket
    /// out of epoll and put it back (two `epoll_ctl` calls) for each request.
    func read(context: ChannelHandlerContext) {
        if case .answering = mode, !waiting.isEmpty {
            readPending = true
        } else {
            context.read()
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch (event, mode) {
        case (is ChannelShouldQuiesceEvent, .collecting), (is ChannelShouldQuiesceEvent, .answering):
            quiescePending = true
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        hedgeTimer?.cancel()
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.context = nil
        context.fireChannelInactive()
    }
}

extension RPCChannelHandler {
    /// Goes where Hummingbird's channel puts its extra handlers (after the conversion to Swift
    /// HTTP Types) and, once there, puts its ``RPCChannelHandler`` before that conversion and
    /// leaves. Should the conversion not be found (another Hummingbird pipeline), the handler stays
    /// out and Hummingbird's routes serve JSON-RPC (``RPCRoutes``), only more slowly.
    final class Installer: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = Never
        let handler: RPCChannelHandler

        init(_ handler: RPCChannelHandler) {
            self.handler = handler
        }

        func handlerAdded(context: ChannelHandlerContext) {
            let pipeline = context.pipeline.syncOperations
            if let codec = try? pipeline.handler(type: HTTP1ToHTTPServerCodec.self) {
                try? pipeline.addHandler(handler, position: .before(codec))
            }
            pipeline.removeHandler(context: context, promise: nil)
        }
    }
}
