import Foundation
import JSONRPC
import Logging
import NIOCore
import ServiceLifecycle

/// Runs a network's health rounds: every `interval`, all upstreams probed in parallel within
/// `timeout`, and the outcomes applied to the router. The clock is injected so that tests drive
/// rounds without waiting.
public struct HealthMonitor<C: Clock>: Service where C.Duration == Duration {
    public typealias RoundObserver = @Sendable (_ router: NetworkRouter, _ transitions: [HealthTracker.Transition]) async -> Void

    let router: NetworkRouter
    let clock: C
    let wallClock: @Sendable () -> Date
    let logger: Logger
    let observer: RoundObserver?

    public init(
        router: NetworkRouter, clock: C, wallClock: @escaping @Sendable () -> Date = Date.init,
        logger: Logger = Logger(label: "headway.health"), observer: RoundObserver? = nil
    ) {
        self.router = router
        self.clock = clock
        self.wallClock = wallClock
        self.logger = logger
        self.observer = observer
    }

    public func run() async throws {
        // Rounds end with graceful shutdown; ending that way is a normal return.
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await runRound()
                try await clock.sleep(for: router.config.health.interval)
            }
        }
    }

    /// Probes every upstream once (`max_concurrent_probes` at a time) and applies the outcomes.
    @discardableResult
    public func runRound() async -> [HealthTracker.Transition] {
        let targets = router.probeTargets()
        let health = router.config.health
        let chainID = router.config.chainID
        let started = ContinuousClock.now
        let outcomes = await withTaskGroup(of: (String, ProbeOutcome).self) { group in
            // At most `max_concurrent_probes` upstreams at a time: a finished probe starts the next.
            var pending = targets.makeIterator()
            func startNext() {
                guard let target = pending.next() else { return }
                group.addTask {
                    let outcome = await Self.bounded(by: health.timeout, timer: router.timer) {
                        await Self.probe(target.handle, checkChain: target.checkChain, chainID: chainID, timeout: health.timeout)
                    }
                    return (target.handle.name, outcome)
                }
            }
            for _ in 0..<max(1, health.maxConcurrentProbes) { startNext() }
            var outcomes: [String: ProbeOutcome] = [:]
            for await (name, outcome) in group {
                outcomes[name] = outcome
                startNext()
            }
            return outcomes
        }
        let took = started.duration(to: .now)
        let roundMetadata: Logger.Metadata = [
            "network": "\(router.name)", "upstreams": "\(targets.count)",
            "duration_ms": "\(Int(took.milliseconds))",
        ]
        if took > health.interval {
            // A hanging node holds its slot for health.timeout; rounds of more upstreams than
            // max_concurrent_probes take several such turns.
            let advice =
                targets.count > health.maxConcurrentProbes
                ? "raise health.max_concurrent_probes or the interval" : "keep health.timeout shorter than the interval"
            logger.warning(
                "health round took longer than health.interval: \(advice)",
                metadata: roundMetadata.merging([
                    "interval": "\(health.interval)", "timeout": "\(health.timeout)", "max_concurrent_probes": "\(health.maxConcurrentProbes)",
                ]) { $1 })
        } else {
            logger.debug("health round finished", metadata: roundMetadata)
        }
        let transitions = router.apply(outcomes, at: wallClock())
        for transition in transitions {
            let reason = router.status(of: transition.upstream)?.health.reason ?? ""
            logger.info(
                "upstream state changed",
                metadata: [
                    "network": "\(router.name)", "upstream": "\(transition.upstream)",
                    "from": "\(transition.from.rawValue)", "to": "\(transition.to.rawValue)",
                    "in_rotation": "\(transition.inRotation)", "reason": "\(reason)",
                ])
        }
        await observer?(router, transitions)
        return transitions
    }

    /// One upstream's probes: `eth_chainId` when asked, then `eth_blockNumber` and `eth_syncing`
    /// in parallel, all within `timeout`.
    static func probe(_ handle: UpstreamHandle, checkChain: Bool, chainID: UInt64, timeout: Duration) async -> ProbeOutcome {
        let clock = ContinuousClock()
        let start = clock.now
        let deadline = start.advanced(by: timeout)
        func remaining() -> Duration { max(.milliseconds(1), clock.now.duration(to: deadline)) }
        do {
            if checkChain {
                let response = try await call(handle, "eth_chainId", timeout: remaining())
                guard let text = response.resultString, let reported = Hex.uint64(text) else {
                    return .unreachable(reason: "eth_chainId: \(describe(response))")
                }
                if reported != chainID { return .wrongChain(reported: reported) }
            }
            async let blockNumber = call(handle, "eth_blockNumber", timeout: remaining())
            async let syncing = call(handle, "eth_syncing", timeout: remaining())
            let (headResponse, syncingResponse) = try await (blockNumber, syncing)
            let latency = start.duration(to: clock.now)
            guard let text = headResponse.resultString, let head = Hex.uint64(text) else {
                return .unreachable(reason: "eth_blockNumber: \(describe(headResponse))")
            }
            guard syncingResponse.error == nil, syncingResponse.result != nil else {
                return .unreachable(reason: "eth_syncing: \(describe(syncingResponse))")
            }
            return .answered(head: head, syncing: !syncingResponse.resultIsFalse, latency: latency)
        } catch let failure as UpstreamFailure {
            return .unreachable(reason: failure.message)
        } catch {
            return .unreachable(reason: "\(error)")
        }
    }

    /// Runs `probe`, but gives up after `timeout` even when a transport does not honour its own
    /// timeout: a round never takes longer than `timeout`.
    static func bounded(
        by timeout: Duration, timer: any RequestTimer, _ probe: @escaping @Sendable () async -> ProbeOutcome
    ) async -> ProbeOutcome {
        await withTaskGroup(of: ProbeOutcome?.self) { group in
            group.addTask { await probe() }
            group.addTask {
                await timer.sleep(until: .now + timeout + .milliseconds(50))
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first ?? .unreachable(reason: "no answer within \(timeout)")
        }
    }

    static func call(_ handle: UpstreamHandle, _ method: String, timeout: Duration) async throws -> JSONRPCResponse {
        let body = try await handle.transport.send(JSONRPCRequest(id: 1, method: method).body, timeout: timeout)
        guard let response = JSONRPCResponse(scanning: body) else {
            throw UpstreamFailure(.badResponse, "\(method) returned a body that is not a JSON-RPC response")
        }
        return response
    }

    static func describe(_ response: JSONRPCResponse) -> String {
        if let error = response.error { return "error \(error.code): \(error.message)" }
        return "unexpected result \(response.result?.description.prefix(80) ?? "none")"
    }
}
