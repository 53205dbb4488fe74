import AsyncHTTPClient
import Foundation
import HeadwayCore
import NIOCore
import NIOHTTP1
import NIOPosix

/// Sends JSON-RPC bodies to one upstream over HTTP(S) through a shared, pooled ``HTTPClient``.
///
/// Credentials in the URL's userinfo are sent as a Basic `Authorization` header; the URL itself
/// never appears in an error message, only its redacted form.
public struct HTTPUpstreamTransport: UpstreamTransport {
    let client: HTTPClient
    let url: String
    let redactedURL: String
    let headers: HTTPHeaders
    let maxResponseBytes: Int

    public init(client: HTTPClient, url: String, maxResponseBytes: Int = 256 * 1024 * 1024) {
        self.client = client
        let parsed = UpstreamURL(url)
        self.redactedURL = parsed.redacted
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "application/json")
        headers.add(name: "accept", value: "application/json")
        if let authorization = parsed.authorization { headers.add(name: "authorization", value: authorization) }
        self.url = parsed.withoutCredentials
        self.headers = headers
        self.maxResponseBytes = maxResponseBytes
    }

    public func send(_ body: ByteBuffer, timeout: Duration) async throws(UpstreamFailure) -> ByteBuffer {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers = headers
        request.body = .bytes(body)
        do {
            let response = try await client.execute(request, timeout: TimeAmount(timeout))
            guard (200..<300).contains(response.status.code) else {
                throw UpstreamFailure(.httpStatus(Int(response.status.code)), "\(redactedURL) answered HTTP \(response.status.code)")
            }
            return try await response.body.collect(upTo: maxResponseBytes)
        } catch let failure as UpstreamFailure {
            throw failure
        } catch {
            throw classify(error)
        }
    }

    func classify(_ error: any Error) -> UpstreamFailure {
        switch error {
        case let error as HTTPClientError:
            switch error {
            case .connectTimeout, .socksHandshakeTimeout, .tlsHandshakeTimeout:
                return UpstreamFailure(.connect, "\(redactedURL): could not connect (\(error.shortDescription))")
            case .deadlineExceeded, .readTimeout, .writeTimeout:
                return UpstreamFailure(.timeout, "\(redactedURL): no answer in time")
            default:
                return UpstreamFailure(.connectionClosed, "\(redactedURL): \(error.shortDescription)")
            }
        case is NIOConnectionError:
            return UpstreamFailure(.connect, "\(redactedURL): connection refused")
        case let error as IOError where [ECONNREFUSED, EHOSTUNREACH, ENETUNREACH].contains(error.errnoCode):
            return UpstreamFailure(.connect, "\(redactedURL): connection refused")
        case let error as ChannelError:
            if case .connectTimeout = error {
                return UpstreamFailure(.connect, "\(redactedURL): connect timeout")
            }
            return UpstreamFailure(.connectionClosed, "\(redactedURL): \(error)")
        case is NIOTooManyBytesError:
            return UpstreamFailure(.badResponse, "\(redactedURL): response larger than \(maxResponseBytes) bytes")
        default:
            return UpstreamFailure(.connectionClosed, "\(redactedURL): \(type(of: error))")
        }
    }
}

extension HTTPClientError {
    var shortDescription: String {
        "\(self)".replacingOccurrences(of: "HTTPClientError.", with: "")
    }
}

extension HTTPClient {
    /// The client configuration Headway uses for upstreams: no redirects, no automatic retry of
    /// failed connection attempts (the gateway fails over to another upstream instead).
    public static func makeUpstreamClient(eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 64
        configuration.timeout.connect = .seconds(2)
        configuration.decompression = .disabled
        return HTTPClient(eventLoopGroupProvider: .shared(eventLoopGroup), configuration: configuration)
    }
}
