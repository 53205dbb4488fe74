import Foundation
import HeadwayCore

/// An upstream's HTTP(S) URL taken apart: where to connect, what to ask for, and the Basic
/// credentials of its userinfo (sent as an `Authorization` header, never as part of the URL).
struct UpstreamURL: Sendable {
    let isTLS: Bool
    let host: String
    let port: Int
    /// Path and query, as sent in the request line.
    let path: String
    /// The URL without its userinfo.
    let withoutCredentials: String
    /// `Basic ...` when the URL carries a user.
    let authorization: String?
    /// For messages: secrets masked (see ``URLRedactor``).
    let redacted: String

    init(_ url: String) {
        redacted = URLRedactor.redact(url)
        var components = URLComponents(string: url) ?? URLComponents()
        if let user = components.user {
            let credentials = "\(user.removingPercentEncoding ?? user):\(components.password?.removingPercentEncoding ?? "")"
            authorization = "Basic " + Data(credentials.utf8).base64EncodedString()
            components.user = nil
            components.password = nil
            withoutCredentials = components.string ?? url
        } else {
            authorization = nil
            withoutCredentials = url
        }
        isTLS = components.scheme?.lowercased() == "https"
        host = components.host ?? "localhost"
        port = components.port ?? (isTLS ? 443 : 80)
        let query = components.percentEncodedQuery.map { "?" + $0 } ?? ""
        path = (components.percentEncodedPath.isEmpty ? "/" : components.percentEncodedPath) + query
    }

    /// The `Host` header value: the port only when it is not the scheme's default.
    var hostHeader: String {
        let name = host.contains(":") ? "[\(host)]" : host
        return port == (isTLS ? 443 : 80) ? name : "\(name):\(port)"
    }
}
