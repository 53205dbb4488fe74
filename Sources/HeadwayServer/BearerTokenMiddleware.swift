import Hummingbird

/// Requires `Authorization: Bearer TOKEN` on every admin request except the process probes
/// (`/healthz`, `/readyz`), which load balancers and orchestrators call without credentials.
public struct BearerTokenMiddleware<Context: RequestContext>: RouterMiddleware {
    let token: String
    let open: Set<String> = ["/healthz", "/readyz"]

    public init(token: String) {
        self.token = token
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if open.contains(request.uri.path) { return try await next(request, context) }
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer "),
            Self.constantTimeEqual(Array(header.utf8.dropFirst(7)), Array(token.utf8))
        else {
            return AdminRoutes.message(.unauthorized, "missing or wrong bearer token", headers: [.wwwAuthenticate: "Bearer"])
        }
        return try await next(request, context)
    }

    static func constantTimeEqual(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        var difference: UInt8 = 0
        for index in lhs.indices { difference |= lhs[index] ^ rhs[index] }
        return difference == 0
    }
}
