import JSONRPC
import NIOCore

extension NetworkRouter {
    /// ``forward(_:requirement:)`` for a read, started on the event loop that read the client's
    /// request: the first attempt goes out from that loop (over a connection of that loop, for
    /// the plain-HTTP transport) and an answer that is final is handed back there, without a task
    /// or a thread hop. Anything else (a failure, a node-side error, the hedge delay passing)
    /// continues in ``attempt(_:on:methodClass:requirement:first:)``, with this first attempt
    /// counted and still running: retries, hedging and deadlines are those of `forward`.
    ///
    /// The hedge delay runs on `hedgeTimer`, a timer of `loop` that the requests of one client
    /// connection share (they come one at a time).
    ///
    /// Returns nil for what does not take this path (not a read, a notification, no upstream, an
    /// open breaker on the best candidate): the caller forwards it the usual way.
    public func forwardOnLoop(
        _ request: JSONRPCRequest, requirement: BlockRequirement, on loop: any EventLoop, hedgeTimer: SequentialTimer
    ) -> EventLoopFuture<ForwardOutcome>? {
        var future: EventLoopFuture<ForwardOutcome>?
        let taken = forwardOnLoop(request, requirement: requirement, on: loop, hedgeTimer: hedgeTimer) { _, outcome in
            outcome
        } to: {
            let promise = loop.makePromise(of: ForwardOutcome.self)
            future = promise.futureResult
            return PromiseReceiver(promise)
        }
        return taken ? future : nil
    }

    /// The same, handing `output(request, outcome)` (what the caller makes of the outcome:
    /// ``Gateway``'s reply) to the receiver that `receiver` gives; false, and `receiver` is not
    /// called, for what does not take this path.
    func forwardOnLoop<Output: Sendable>(
        _ request: JSONRPCRequest, requirement: BlockRequirement, on loop: any EventLoop, hedgeTimer: SequentialTimer,
        output: @escaping @Sendable (JSONRPCRequest, ForwardOutcome) -> Output, to receiver: () -> any LoopReceiver<Output>
    ) -> Bool {
        let methodClass = MethodClass.of(request.method)
        guard methodClass == .read, !request.isNotification else { return false }
        let candidates = candidates(for: requirement)
        let started = ContinuousClock.now
        guard let handle = candidates.first, handle.breaker.withLock({ $0.allow(at: started) }) else { return false }
        let exchange = LoopExchange(
            router: self, request: request, requirement: requirement, methodClass: methodClass, candidates: candidates, handle: handle,
            started: started, loop: loop, hedgeTimer: hedgeTimer, output: output, receiver: receiver())
        let policy = config.request
        if policy.hedge.enabled && policy.maxAttempts > 1 && candidates.count > 1 {
            exchange.hedge = hedgeTimer.set(at: .now() + TimeAmount(hedgeDelay(after: handle))) { _ = exchange.handOver(hedgeDue: true) }
        }
        exchange.sendStarted = handle.began()
        handle.transport.send(request.body, timeout: min(policy.attemptTimeout, policy.deadline), on: loop, to: exchange)
        return true
    }
}

/// A read forwarded from an event loop (``NetworkRouter/forwardOnLoop(_:requirement:on:hedgeTimer:)``):
/// what its callbacks share, in one object (a request allocates it and little else): it receives
/// the first attempt's result from the transport and hands the outcome to `receiver`. Only `loop`
/// touches it.
final class LoopExchange<Output: Sendable>: LoopReceiver {
    let router: NetworkRouter
    let request: JSONRPCRequest
    let requirement: BlockRequirement
    let methodClass: MethodClass
    let candidates: [UpstreamHandle]
    let handle: UpstreamHandle
    let started: ContinuousClock.Instant
    let loop: any EventLoop
    let receiver: any LoopReceiver<Output>
    let output: @Sendable (JSONRPCRequest, ForwardOutcome) -> Output
    let hedgeTimer: SequentialTimer
    var hedge: SequentialTimer.Token?
    /// When the send started (``UpstreamHandle/began()``; `started` until then).
    var sendStarted: ContinuousClock.Instant
    /// Set once the task took over: the first attempt's result goes to it through this promise.
    private var handedOver: EventLoopPromise<NetworkRouter.AttemptResult>?

    init(
        router: NetworkRouter, request: JSONRPCRequest, requirement: BlockRequirement, methodClass: MethodClass,
        candidates: [UpstreamHandle], handle: UpstreamHandle, started: ContinuousClock.Instant, loop: any EventLoop,
        hedgeTimer: SequentialTimer, output: @escaping @Sendable (JSONRPCRequest, ForwardOutcome) -> Output,
        receiver: any LoopReceiver<Output>
    ) {
        self.router = router
        self.request = request
        self.requirement = requirement
        self.methodClass = methodClass
        self.candidates = candidates
        self.handle = handle
        self.started = started
        self.loop = loop
        self.receiver = receiver
        self.output = output
        self.hedgeTimer = hedgeTimer
        self.sendStarted = started
    }

    /// Hands the request to a task running ``NetworkRouter/attempt(_:on:methodClass:requirement:first:)``
    /// with this first attempt counted; returns the promise its result goes to.
    func handOver(hedgeDue: Bool) -> EventLoopPromise<NetworkRouter.AttemptResult> {
        let result = loop.makePromise(of: NetworkRouter.AttemptResult.self)
        handedOver = result
        let first = NetworkRouter.FirstAttempt(handle: handle, result: result, started: started, hedgeDue: hedgeDue)
        let (router, request, candidates, methodClass, requirement, output) = (router, request, candidates, methodClass, requirement, output)
        loop.makeFutureWithTask {
            let (forwarded, answeredBy) = await router.attempt(request, on: candidates, methodClass: methodClass, requirement: requirement, first: first)
            return output(request, router.finishing(forwarded, answeredBy: answeredBy, request: request, methodClass: methodClass))
        }.deliver(to: receiver)
        return result
    }

    /// The first attempt ended: a final answer goes to `receiver` from here; anything else goes to
    /// the task (started now unless the hedge delay already started it).
    func receive(_ sent: Result<ByteBuffer, UpstreamFailure>) {
        handle.ended(sendStarted, succeeded: (try? sent.get()) != nil)
        if let hedge { hedgeTimer.clear(hedge) }
        let attempt: NetworkRouter.AttemptResult
        switch sent {
        case .success(let body):
            attempt = router.classify(body, of: request, from: handle, methodClass: methodClass, requirement: requirement)
        case .failure(let failure):
            attempt = .failed(failure, handle)
        }
        router.record(attempt, on: handle)
        if let handedOver {
            handedOver.succeed(attempt)
        } else if case .answer(let response, _) = attempt {
            let answered = ForwardOutcome.answered(response, upstream: handle.name, attempts: 1)
            receiver.receive(output(request, router.finishing(answered, answeredBy: handle, request: request, methodClass: methodClass)))
        } else {
            handOver(hedgeDue: false).succeed(attempt)
        }
    }
}
