import HeadwayCore
import NIOCore
import NIOHTTP1

/// One keep-alive HTTP/1.1 connection to an upstream, carrying one exchange at a time. It lives on
/// its channel's event loop and goes back to its ``HTTP1LoopPool`` when an exchange ends with the
/// connection still reusable.
/// Its exchanges' timeouts share one lazily re-armed timer (``SequentialTimer``).
final class HTTP1Connection: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    /// The exchange in flight.
    struct Exchange {
        let receiver: UpstreamReceiver
        let timeout: SequentialTimer.Token
        var status: HTTPResponseStatus = .ok
        var keepAlive = true
        var body: ByteBuffer?
    }

    let pool: NIOLoopBoundBox<HTTP1LoopPool>
    let target: HTTP1Target
    private var context: ChannelHandlerContext?
    private var exchange: Exchange?
    private var timer: SequentialTimer?
    /// The request head, built once: an exchange only sets its `Content-Length`, in place (a
    /// stored property, not a lazy one, whose getter and setter would copy the headers each time).
    private var head: HTTPRequestHead
    /// When the connection last finished an exchange (or connected).
    private(set) var idleSince = NIODeadline.now()
    private(set) var isOpen = true

    init(pool: NIOLoopBoundBox<HTTP1LoopPool>, target: HTTP1Target) {
        self.pool = pool
        self.target = target
        head = HTTPRequestHead(version: .http1_1, method: .POST, uri: target.url.path, headers: target.headers)
        head.headers.add(name: "content-length", value: "0")
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        timer = SequentialTimer(on: context.eventLoop)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        self.context = nil
    }

    /// Sends `body`; `receiver` gets the 2xx response body, or an ``UpstreamFailure``.
    func start(_ body: ByteBuffer, deadline: NIODeadline, to receiver: UpstreamReceiver) {
        guard let context, let timer, isOpen else {
            receiver.receive(.failure(UpstreamFailure(.connectionClosed, "\(target.redactedURL): connection closed")))
            return
        }
        let timeout = timer.set(at: deadline) { [self] in
            finish(.failure(UpstreamFailure(.timeout, "\(target.redactedURL): no answer in time")), reusable: false)
        }
        exchange = Exchange(receiver: receiver, timeout: timeout)
        head.headers.replaceOrAdd(name: "content-length", value: String(body.readableBytes))
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard exchange != nil else {
            // Bytes nobody asked for: the connection is out of step; drop it.
            close()
            return
        }
        switch unwrapInboundIn(data) {
        case .head(let head):
            exchange!.status = head.status
            exchange!.keepAlive = head.isKeepAlive
        case .body(var chunk):
            let size = (exchange!.body?.readableBytes ?? 0) + chunk.readableBytes
            guard size <= target.maxResponseBytes else {
                finish(
                    .failure(UpstreamFailure(.badResponse, "\(target.redactedURL): response larger than \(target.maxResponseBytes) bytes")),
                    reusable: false)
                return
            }
            if exchange!.body == nil {
                exchange!.body = chunk
            } else {
                exchange!.body!.writeBuffer(&chunk)
            }
        case .end:
            let exchange = self.exchange!
            let code = exchange.status.code
            if (200..<300).contains(code) {
                finish(.success(exchange.body ?? ByteBuffer()), reusable: exchange.keepAlive)
            } else {
                finish(.failure(UpstreamFailure(.httpStatus(Int(code)), "\(target.redactedURL) answered HTTP \(code)")), reusable: exchange.keepAlive)
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        isOpen = false
        finish(.failure(UpstreamFailure(.connectionClosed, "\(target.redactedURL): connection closed before a full response")), reusable: false)
        pool.value.forget(self)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let failure: UpstreamFailure
        if error is HTTPParserError {
            failure = UpstreamFailure(.badResponse, "\(target.redactedURL): malformed HTTP response")
        } else {
            failure = UpstreamFailure(.connectionClosed, "\(target.redactedURL): \(error)")
        }
        finish(.failure(failure), reusable: false)
    }

    /// Ends the exchange in flight (if any) with `result`; the connection goes back to the pool
    /// when `reusable`, else it closes.
    private func finish(_ result: Result<ByteBuffer, UpstreamFailure>, reusable: Bool) {
        guard let exchange else {
            if !reusable { close() }
            return
        }
        self.exchange = nil
        timer?.clear(exchange.timeout)
        if reusable && isOpen {
            idleSince = .now()
            pool.value.release(self)
        } else {
            close()
        }
        exchange.receiver.receive(result)
    }

    func close() {
        guard isOpen else { return }
        isOpen = false
        context?.close(promise: nil)
    }
}
