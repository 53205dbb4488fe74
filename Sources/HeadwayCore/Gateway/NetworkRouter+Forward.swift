import JSONRPC
import NIOCore

/// How a forwarded request ended.
public enum ForwardOutcome: Sendable {
    /// An upstream answered (with a result or its own JSON-RPC error).
    case answered(JSONRPCResponse, upstream: String, attempts: Int)
    /// A notification was delivered (nodes send nothing back for those).
    case delivered(upstream: String, attempts: Int)
    /// Nothing could answer; `reason` is for the client (no secrets).
    case unavailable(reason: String, attempts: Int)
}

extension NetworkRouter {
    /// Sends a request where it can be answered: the method's class decides retries, hedging and
    /// stickiness (see ``MethodClass``); the block it names decides which upstreams qualify
    /// (`requirement`, when the caller has read it already).
    public func forward(_ request: JSONRPCRequest, requirement known: BlockRequirement? = nil) async -> ForwardOutcome {
        let methodClass = MethodClass.of(request.method)
        switch methodClass {
        case .filterUse:
            return await forwardToFilterOwner(request)
        case .rawTransaction:
            return await sendRawTransaction(request)
        default:
            break
        }
        let requirement = known ?? BlockRequirement.of(method: request.method, params: request.params)
        let candidates = candidates(for: requirement)
        guard !candidates.isEmpty else {
            return .unavailable(reason: "no healthy upstream in network \(name)", attempts: 0)
        }
        let (outcome, answeredBy) = await attempt(request, on: candidates, methodClass: methodClass, requirement: requirement)
        return finishing(outcome, answeredBy: answeredBy, request: request, methodClass: methodClass)
    }

    /// What the method does with an upstream's answer: filter ids get their owner's tag,
    /// `eth_blockNumber` never goes back.
    func finishing(_ outcome: ForwardOutcome, answeredBy: UpstreamHandle?, request: JSONRPCRequest, methodClass: MethodClass) -> ForwardOutcome {
        guard case .answered(let response, let upstream, let attempts) = outcome, let answeredBy else { return outcome }
        if methodClass == .filterCreate, let tagged = tagFilterID(response, owner: answeredBy) {
            return .answered(tagged, upstream: upstream, attempts: attempts)
        }
        if request.method == "eth_blockNumber", let consistent = consistentBlockNumber(response, from: answeredBy) {
            return .answered(consistent, upstream: upstream, attempts: attempts)
        }
        return outcome
    }

    /// An attempt started before ``attempt(_:on:methodClass:requirement:first:)`` took over (by
    /// the event-loop path, see ``forwardOnLoop(_:requirement:on:hedgeTimer:)``), on the first candidate.
    struct FirstAttempt: Sendable {
        let handle: UpstreamHandle
        /// Succeeded with the attempt's result; failed only to stop waiting for it.
        let result: EventLoopPromise<AttemptResult>
        /// When the request started: its deadline counts from here.
        let started: ContinuousClock.Instant
        /// Its hedge delay passed while it still ran: the next attempt starts at once.
        let hedgeDue: Bool
    }

    /// What one attempt produced.
    enum AttemptResult: Sendable {
        /// A response that is the answer.
        case answer(JSONRPCResponse, UpstreamHandle)
        /// A node-side error another upstream may not give; kept in case every attempt fails.
        case nodeError(JSONRPCResponse, UpstreamHandle, reason: String)
        case failed(UpstreamFailure, UpstreamHandle)
        /// A notification was delivered (nodes send no response object for those).
        case delivered(UpstreamHandle)
        /// Timer number `generation` fired: time to hedge, or the request's deadline passed
        /// (whatever the transports do with their timeouts). One timer runs at a time.
        case timer(generation: Int)
    }

    /// Tries `candidates` in order within the deadline and `max_attempts`, retrying where the
    /// method class allows and hedging slow reads; no upstream is tried twice unless all were.
    /// Also returns the upstream that answered, for what the caller does with the answer.
    /// With `first`, that attempt (on `candidates[0]`) counts as started already.
    func attempt(
        _ request: JSONRPCRequest, on candidates: [UpstreamHandle], methodClass: MethodClass, requirement: BlockRequirement,
        first: FirstAttempt? = nil
    ) async -> (outcome: ForwardOutcome, answeredBy: UpstreamHandle?) {
        let policy = config.request
        let clock = ContinuousClock()
        let deadline = (first?.started ?? clock.now).advanced(by: policy.deadline)
        let maxAttempts = max(1, policy.maxAttempts)
        let hedging = methodClass.hedges && policy.hedge.enabled && !request.isNotification
        return await withTaskGroup(of: AttemptResult.self) { group in
            var next = 0
            var attempts = 0
            var running = 0
            var generation = 0
            var lastFailure: String?
            var lastNodeError: (JSONRPCResponse, UpstreamHandle)?

            /// Whether open circuit breakers are ignored: only when every candidate's is open, since
            /// trying an upstream that failed recently beats refusing the request outright.
            var ignoreBreakers = false

            /// Starts the next attempt; returns the upstream, or nil when nothing more may start.
            /// Candidates are taken in order; once all were tried, the list starts over, but only
            /// when no attempt is still running.
            func launch() -> UpstreamHandle? {
                let now = clock.now
                guard attempts < maxAttempts, now < deadline, !candidates.isEmpty else { return nil }
                for _ in 0..<(2 * candidates.count) {
                    if next == candidates.count {
                        guard running == 0 else { return nil }
                        next = 0
                    }
                    let handle = candidates[next]
                    next += 1
                    guard ignoreBreakers || handle.breaker.withLock({ $0.allow(at: now) }) else { continue }
                    attempts += 1
                    running += 1
                    let timeout = min(policy.attemptTimeout, now.duration(to: deadline))
                    group.addTask {
                        await self.attempt(request, on: handle, timeout: timeout, methodClass: methodClass, requirement: requirement)
                    }
                    return handle
                }
                guard attempts == 0, !ignoreBreakers else { return nil }
                ignoreBreakers = true
                return launch()
            }

            /// Starts a hedge (an attempt next to one still running), when one may start.
            func launchHedge() -> UpstreamHandle? {
                let hedge = launch()
                if let hedge {
                    logger.debug(
                        "hedging a slow request", metadata: ["network": "\(name)", "method": "\(request.method)", "upstream": "\(hedge.name)"])
                }
                return hedge
            }

            /// Arms the one timer: at the hedge delay of the attempt just started on `handle` when
            /// it may be hedged, else at the deadline. An older timer that fires later is stale.
            func armTimer(after handle: UpstreamHandle?) {
                generation += 1
                let current = generation
                var fire = deadline
                if let handle, hedging, attempts < maxAttempts {
                    fire = min(fire, clock.now.advanced(by: hedgeDelay(after: handle)))
                }
                group.addTask {
                    await self.timer.sleep(until: fire)
                    return .timer(generation: current)
                }
            }

            if let first {
                next = 1
                attempts = 1
                running = 1
                group.addTask {
                    // Cancelled (an answer came, the deadline passed): stop waiting at once, as
                    // a transport's send does; the attempt itself ends on its own.
                    await withTaskCancellationHandler {
                        (try? await first.result.futureResult.get())
                            ?? .failed(UpstreamFailure(.connectionClosed, "\(first.handle.name): attempt cancelled"), first.handle)
                    } onCancel: {
                        first.result.fail(CancellationError())
                    }
                }
                // Without a hedge due, only the deadline is left to watch until it ends.
                armTimer(after: first.hedgeDue ? launchHedge() : nil)
            } else {
                guard let started = launch() else {
                    return (.unavailable(reason: "deadline of \(policy.deadline) passed before any upstream was tried", attempts: 0), nil)
                }
                armTimer(after: started)
            }
            while running > 0, let result = await group.next() {
                switch result {
                case .timer(let fired):
                    guard fired == generation, running > 0, !Task.isCancelled else { continue }
                    if clock.now >= deadline {
                        group.cancelAll()
                        let detail = lastFailure.map { ": \($0)" } ?? ""
                        return (.unavailable(reason: "deadline of \(policy.deadline) passed\(detail)", attempts: attempts), nil)
                    }
                    // Without a hedge (nothing more may start), only the deadline is left to watch.
                    armTimer(after: launchHedge())
                case .answer(let response, let handle):
                    group.cancelAll()
                    return (.answered(response, upstream: handle.name, attempts: attempts), handle)
                case .delivered(let handle):
                    group.cancelAll()
                    return (.delivered(upstream: handle.name, attempts: attempts), handle)
                case .nodeError(let response, let handle, let reason):
                    running -= 1
                    lastNodeError = (response, handle)
                    lastFailure = "\(handle.name): \(reason)"
                    logger.debug(
                        "retrying elsewhere after a node-side error",
                        metadata: ["network": "\(name)", "method": "\(request.method)", "upstream": "\(handle.name)", "reason": "\(reason)"])
                    if running == 0, let retry = launch() { armTimer(after: retry) }
                case .failed(let failure, let handle):
                    running -= 1
                    lastFailure = failure.message
                    logger.debug(
                        "upstream attempt failed",
                        metadata: ["network": "\(name)", "method": "\(request.method)", "upstream": "\(handle.name)", "reason": "\(failure.message)"])
                    if failure.mayHaveReachedNode && !methodClass.retriesAfterDelivery() {
                        group.cancelAll()
                        let reason = "\(request.method) may have reached \(handle.name), which failed (\(failure.message)); not sent again"
                        return (.unavailable(reason: reason, attempts: attempts), nil)
                    }
                    if running == 0, let retry = launch() { armTimer(after: retry) }
                }
            }
            group.cancelAll()
            if let (response, handle) = lastNodeError {
                return (.answered(response, upstream: handle.name, attempts: attempts), handle)
            }
            let detail = lastFailure.map { ": \($0)" } ?? ""
            if clock.now >= deadline {
                return (.unavailable(reason: "deadline of \(policy.deadline) passed\(detail)", attempts: attempts), nil)
            }
            return (.unavailable(reason: "every upstream of network \(name) failed\(detail)", attempts: attempts), nil)
        }
    }

    /// One attempt on one upstream, classified; feeds the upstream's circuit breaker.
    func attempt(
        _ request: JSONRPCRequest, on handle: UpstreamHandle, timeout: Duration, methodClass: MethodClass, requirement: BlockRequirement
    ) async -> AttemptResult {
        let result: AttemptResult
        do {
            result = classify(
                try await handle.send(request.body, timeout: timeout), of: request, from: handle, methodClass: methodClass, requirement: requirement)
        } catch {
            result = .failed(error, handle)
        }
        if Task.isCancelled {
            handle.breaker.withLock { $0.releaseProbe() }
            return result
        }
        record(result, on: handle)
        return result
    }

    /// What an upstream's 2xx body means for `request`: the answer, a node-side error to retry
    /// elsewhere, or not a JSON-RPC response at all.
    func classify(
        _ body: ByteBuffer, of request: JSONRPCRequest, from handle: UpstreamHandle, methodClass: MethodClass, requirement: BlockRequirement
    ) -> AttemptResult {
        if request.isNotification { return .delivered(handle) }
        guard let response = JSONRPCResponse(scanning: body) else {
            return .failed(UpstreamFailure(.badResponse, "\(handle.name) returned a body that is not a JSON-RPC response"), handle)
        }
        if let error = response.error, config.request.retryOn.isRetryable(error, methodClass: methodClass) {
            return .nodeError(response, handle, reason: "error \(error.code): \(error.message)")
        }
        if response.resultKind == .null, case .number(let number) = requirement, number <= (head ?? 0), Self.nullMeansMissing.contains(request.method) {
            return .nodeError(response, handle, reason: "block \(number) missing on this node")
        }
        return .answer(response, handle)
    }

    /// How long an attempt on `handle` runs before a hedge starts: slower than that upstream's
    /// recent high latency, within `hedge.min_delay` … `hedge.max_delay`.
    func hedgeDelay(after handle: UpstreamHandle) -> Duration {
        min(max(handle.slowLatency, config.request.hedge.minDelay), config.request.hedge.maxDelay)
    }

    /// Feeds an attempt's result to the upstream's circuit breaker.
    func record(_ result: AttemptResult, on handle: UpstreamHandle) {
        switch result {
        case .answer, .delivered: handle.breaker.withLock { $0.recordSuccess() }
        case .nodeError, .failed:
            let now = ContinuousClock.now
            handle.breaker.withLock { $0.recordFailure(at: now) }
        case .timer: break
        }
    }

    /// Methods for which `null` about a block the network has means "this node lacks it".
    static let nullMeansMissing: Set<String> = [
        "eth_getBlockByNumber", "eth_getBlockTransactionCountByNumber", "eth_getHeaderByNumber", "eth_getBlockReceipts",
        "eth_getUncleCountByBlockNumber",
    ]
}
