import NIOCore

/// Why a request to an upstream failed before a usable JSON-RPC response came back.
public struct UpstreamFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// No connection could be made: the request never reached the node.
        case connect
        /// No answer within the attempt's timeout.
        case timeout
        /// The connection closed or reset before a full response.
        case connectionClosed
        /// An HTTP status other than 2xx (5xx, 429, ...).
        case httpStatus(Int)
        /// A 2xx body that is not a JSON-RPC response (garbage, truncated, HTML).
        case badResponse
    }

    public var kind: Kind
    /// A message for logs and operators; must not contain secrets.
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// Whether the node may have received (and acted on) the request.
    public var mayHaveReachedNode: Bool { kind != .connect }

    public var description: String { message }
}

/// Sends one JSON-RPC body to one upstream and returns the response body.
public protocol UpstreamTransport: Sendable {
    /// Sends `body` (a JSON-RPC request object) and returns the upstream's 2xx response body.
    func send(_ body: ByteBuffer, timeout: Duration) async throws(UpstreamFailure) -> ByteBuffer

    /// The same, started from code running on `loop` (the request path that stays on the event
    /// loop that read the client's request): the result goes to `receiver`, on `loop`.
    func send(_ body: ByteBuffer, timeout: Duration, on loop: any EventLoop, to receiver: UpstreamReceiver)
}

extension UpstreamTransport {
    /// Bridges to the async `send` through a task: right for transports that are not built on
    /// the event loops themselves.
    public func send(_ body: ByteBuffer, timeout: Duration, on loop: any EventLoop, to receiver: UpstreamReceiver) {
        loop.makeFutureWithTask { () -> Result<ByteBuffer, UpstreamFailure> in
            do throws(UpstreamFailure) {
                return .success(try await self.send(body, timeout: timeout))
            } catch {
                return .failure(error)
            }
        }.deliver(to: receiver)
    }
}

/// What gets an exchange's result on the event-loop path: the response body or why it failed.
public typealias UpstreamReceiver = any LoopReceiver<Result<ByteBuffer, UpstreamFailure>>

/// Makes the transport for an upstream definition (the App gives the HTTP one; tests give fakes).
public typealias UpstreamTransportFactory = @Sendable (UpstreamDefinition) -> any UpstreamTransport
