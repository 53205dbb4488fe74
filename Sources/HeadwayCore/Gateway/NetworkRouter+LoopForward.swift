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
    /// Returns nil for what does not take this path (not a read, a notification, no upstream, an
    /// open breaker on the best candidate): the caller forwards it the usual way.
    public func forwardOnLoop(_ request: JSONRPCRequest, requirement: BlockRequirement, on loop: any EventLoop) -> EventLoopFuture<ForwardOutcome>? {
        let methodClass = MethodClass.of(request.method)
        guard methodClass == .read, !request.isNotification else { return nil }
        let candidates = candidates(for: requirement)
        let started = ContinuousClock.now
        guard let handle = candidates.first, handle.breaker.withLock({ $0.allow(at: started) }) else { return nil }
        let policy = config.request
        let outcome = loop.makePromise(of: ForwardOutcome.self)
        let result = loop.makePromise(of: AttemptResult.self)
        /// Set when the task took over: the attempt's result goes to it.
        let handedOver = NIOLoopBoundBox(false, eventLoop: loop)

        @Sendable func handOver(hedgeDue: Bool) {
            handedOver.value = true
            let first = FirstAttempt(handle: handle, result: result, started: started, hedgeDue: hedgeDue)
            outcome.completeWithTask {
                let (forwarded, answeredBy) = await self.attempt(request, on: candidates, methodClass: methodClass, requirement: requirement, first: first)
                return self.finishing(forwarded, answeredBy: answeredBy, request: request, methodClass: methodClass)
            }
        }

        let hedge: Scheduled<Void>?
        if policy.hedge.enabled, policy.maxAttempts > 1, candidates.count > 1 {
            let delay = min(max(handle.slowLatency, policy.hedge.minDelay), policy.hedge.maxDelay)
            hedge = loop.scheduleTask(in: TimeAmount(delay)) { handOver(hedgeDue: true) }
        } else {
            hedge = nil
        }
        let timeout = min(policy.attemptTimeout, policy.deadline)
        handle.send(request.body, timeout: timeout, on: loop).whenComplete { [self] sent in
            hedge?.cancel()
            let attempt: AttemptResult
            switch sent {
            case .success(let body): attempt = classify(body, of: request, from: handle, methodClass: methodClass, requirement: requirement)
            case .failure(let error): attempt = .failed(error as? UpstreamFailure ?? UpstreamFailure(.connectionClosed, "\(error)"), handle)
            }
            record(attempt, on: handle)
            if !handedOver.value, case .answer(let response, _) = attempt {
                let answered = ForwardOutcome.answered(response, upstream: handle.name, attempts: 1)
                outcome.succeed(finishing(answered, answeredBy: handle, request: request, methodClass: methodClass))
                result.succeed(attempt)
                return
            }
            result.succeed(attempt)
            if !handedOver.value { handOver(hedgeDue: false) }
        }
        return outcome.futureResult
    }
}
