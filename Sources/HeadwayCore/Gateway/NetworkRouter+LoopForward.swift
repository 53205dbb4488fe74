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
        let methodClass = MethodClass.of(request.method)
        guard methodClass == .read, !request.isNotification else { return nil }
        let candidates = candidates(for: requirement)
        let started = ContinuousClock.now
        guard let handle = candidates.first, handle.breaker.withLock({ $0.allow(at: started) }) else { return nil }
        let policy = config.request
        let outcome = loop.makePromise(of: ForwardOutcome.self)
        /// Set once the task took over: the first attempt's result goes to it through this promise.
        let handedOver = NIOLoopBoundBox(EventLoopPromise<AttemptResult>?.none, eventLoop: loop)

        @Sendable func handOver(hedgeDue: Bool) -> EventLoopPromise<AttemptResult> {
            let result = loop.makePromise(of: AttemptResult.self)
            handedOver.value = result
            let first = FirstAttempt(handle: handle, result: result, started: started, hedgeDue: hedgeDue)
            outcome.completeWithTask {
                let (forwarded, answeredBy) = await self.attempt(request, on: candidates, methodClass: methodClass, requirement: requirement, first: first)
                return self.finishing(forwarded, answeredBy: answeredBy, request: request, methodClass: methodClass)
            }
            return result
        }

        let hedge =
            policy.hedge.enabled && policy.maxAttempts > 1 && candidates.count > 1
            ? hedgeTimer.set(at: .now() + TimeAmount(hedgeDelay(after: handle))) { _ = handOver(hedgeDue: true) } : nil
        let sent = handle.send(request.body, timeout: min(policy.attemptTimeout, policy.deadline), on: loop)
        sent.hop(to: loop).assumeIsolated().whenComplete { [self] sent in
            if let hedge { hedgeTimer.clear(hedge) }
            let attempt: AttemptResult
            switch sent {
            case .success(let body): attempt = classify(body, of: request, from: handle, methodClass: methodClass, requirement: requirement)
            case .failure(let error): attempt = .failed(error as? UpstreamFailure ?? UpstreamFailure(.connectionClosed, "\(error)"), handle)
            }
            record(attempt, on: handle)
            if let result = handedOver.value {
                result.succeed(attempt)
            } else if case .answer(let response, _) = attempt {
                let answered = ForwardOutcome.answered(response, upstream: handle.name, attempts: 1)
                outcome.succeed(finishing(answered, answeredBy: handle, request: request, methodClass: methodClass))
            } else {
                handOver(hedgeDue: false).succeed(attempt)
            }
        }
        return outcome.futureResult
    }
}
