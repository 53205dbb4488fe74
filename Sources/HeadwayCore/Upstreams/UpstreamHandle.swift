import NIOCore
import Synchronization

/// A live upstream in a network: its fixed identity, its transport and the counters the
/// request path updates (outstanding requests, recent latency). Health lives in ``HealthTracker``.
public final class UpstreamHandle: Sendable {
    public let name: String
    public let role: UpstreamRole
    /// The URL with secrets redacted, for logs and the API.
    public let redactedURL: String
    public let transport: any UpstreamTransport
    let outstandingCount = Atomic<Int>(0)
    /// Exponentially weighted recent latency, microseconds.
    let latencyMicros = Atomic<Int>(0)
    /// Set when a client request failed on this upstream, cleared by its next success: such an
    /// upstream is tried after the others until the next health round decides about it.
    let failedRecently = Atomic<Bool>(false)

    public init(definition: UpstreamDefinition, transport: any UpstreamTransport) {
        self.name = definition.name
        self.role = definition.role
        self.redactedURL = URLRedactor.redact(definition.url)
        self.transport = transport
    }

    public var outstanding: Int { outstandingCount.load(ordering: .relaxed) }
    public var recentLatency: Duration { .microseconds(latencyMicros.load(ordering: .relaxed)) }

    /// Sends through the transport, keeping the outstanding count and the latency average.
    func send(_ body: ByteBuffer, timeout: Duration, clock: ContinuousClock = ContinuousClock()) async throws(UpstreamFailure) -> ByteBuffer {
        outstandingCount.add(1, ordering: .relaxed)
        defer { outstandingCount.subtract(1, ordering: .relaxed) }
        let start = clock.now
        do {
            let response = try await transport.send(body, timeout: timeout)
            record(latency: start.duration(to: clock.now))
            return response
        } catch {
            failedRecently.store(true, ordering: .relaxed)
            throw error
        }
    }

    /// Whether the latest client request on this upstream failed.
    public var isSuspect: Bool { failedRecently.load(ordering: .relaxed) }

    /// Clears the suspicion (after a good health round or a good answer).
    func clearSuspicion() {
        if failedRecently.load(ordering: .relaxed) { failedRecently.store(false, ordering: .relaxed) }
    }

    func record(latency: Duration) {
        clearSuspicion()
        let micros = Int(latency.components.seconds) * 1_000_000 + Int(latency.components.attoseconds / 1_000_000_000_000)
        let old = latencyMicros.load(ordering: .relaxed)
        latencyMicros.store(old == 0 ? micros : (old * 7 + micros) / 8, ordering: .relaxed)
    }
}
