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
        let response = try await transport.send(body, timeout: timeout)
        record(latency: start.duration(to: clock.now))
        return response
    }

    func record(latency: Duration) {
        let micros = Int(latency.components.seconds) * 1_000_000 + Int(latency.components.attoseconds / 1_000_000_000_000)
        let old = latencyMicros.load(ordering: .relaxed)
        latencyMicros.store(old == 0 ? micros : (old * 7 + micros) / 8, ordering: .relaxed)
    }
}
