import Foundation
import HTTPTypes
import HeadwayCore
import Hummingbird
import NIOCore
import NIOFoundationCompat

/// The admin API (`/api/v1/...`) and the process probes (`/healthz`, `/readyz`).
public struct AdminRoutes: Sendable {
    let registry: Registry

    public init(registry: Registry) {
        self.registry = registry
    }

    var gateway: Gateway { registry.gateway }

    public func register<Context: RequestContext>(on router: Router<Context>) {
        router.get("/healthz") { _, _ in Self.message(.ok, "ok") }
        router.get("/readyz") { _, _ in
            let notReady = gateway.networkNames.filter { !(gateway.networks[$0]?.canServe ?? false) }
            if notReady.isEmpty { return Self.message(.ok, "ready") }
            return Self.message(.serviceUnavailable, "no healthy upstream in: \(notReady.joined(separator: ", "))")
        }
        let api = router.group("api/v1/upstreams")
        api.get { _, _ in
            let views = gateway.networkNames.flatMap { gateway.networks[$0]!.statuses().map(UpstreamView.init) }
            return try Self.json(.ok, views)
        }
        api.post { request, context in
            let buffer = try await request.body.collect(upTo: 64 * 1024)
            let new: NewUpstream
            do {
                new = try JSONDecoder().decode(NewUpstream.self, from: Data(buffer: buffer))
            } catch {
                return Self.message(
                    .badRequest, "body must be a JSON object with name and url (strings) and optional ws, role, network: \(Self.describe(error))")
            }
            let status: UpstreamStatus
            do {
                status = try await registry.add(name: new.name, url: new.url, ws: new.ws, role: new.role, network: new.network)
            } catch {
                return Self.refused(error)
            }
            return try Self.json(.created, UpstreamView(status))
        }
        api.delete(":name") { _, context in
            do {
                try await registry.remove(context.parameters.get("name") ?? "")
                return Response(status: .noContent)
            } catch {
                return Self.refused(error)
            }
        }
        for (action, disabled) in [("disable", true), ("enable", false)] {
            api.post(":name/\(action)") { _, context in
                let status: UpstreamStatus
                do {
                    status = try await registry.setDisabled(context.parameters.get("name") ?? "", disabled)
                } catch {
                    return Self.refused(error)
                }
                return try Self.json(.ok, UpstreamView(status))
            }
        }
        api.get(":name/health") { _, context in
            let name = context.parameters.get("name") ?? ""
            guard let status = registry.network(of: name)?.status(of: name) else {
                return Self.message(.notFound, "no upstream named \(name)")
            }
            let view = UpstreamView(status)
            return try Self.json(view.healthy ? .ok : .serviceUnavailable, view)
        }
    }

    static func refused(_ error: any Error) -> Response {
        guard let refusal = error as? Registry.Refusal else { return message(.internalServerError, "\(error)") }
        return message(.init(code: refusal.status), refusal.message)
    }

    static func json(_ status: HTTPResponse.Status, _ value: some Encodable) throws -> Response {
        let data = try UpstreamView.encoder.encode(value)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// A JSON `{"message": ...}` (errors carry `"error": true`).
    static func message(_ status: HTTPResponse.Status, _ text: String, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.contentType] = "application/json"
        let isError = status.code >= 400
        let body = isError ? ["error": text] : ["status": text]
        let data = (try? JSONEncoder().encode(body)) ?? Data()
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _): "missing \(key.stringValue)"
        case DecodingError.typeMismatch(_, let context): "wrong type at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
        case DecodingError.dataCorrupted: "not JSON"
        default: "\(error)"
        }
    }
}
