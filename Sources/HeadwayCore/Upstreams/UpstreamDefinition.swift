import Foundation

/// An upstream's role in its network.
public enum UpstreamRole: String, Sendable, Codable, CaseIterable {
    /// The team's own nodes: they carry the traffic.
    case primary
    /// A last resort (typically a public provider): serves only while no primary is healthy.
    case fallback
}

/// Where a registry entry came from; decides what seeding at start may change.
public enum UpstreamSource: String, Sendable, Codable {
    case config
    case api
}

/// One upstream as registered: the data an operator sets.
public struct UpstreamDefinition: Sendable, Equatable, Codable {
    public var name: String
    public var network: String
    public var role: UpstreamRole
    public var url: String
    public var ws: String?
    public var disabled: Bool
    public var source: UpstreamSource
    public var addedAt: Date

    public init(
        name: String, network: String, role: UpstreamRole = .primary, url: String, ws: String? = nil,
        disabled: Bool = false, source: UpstreamSource = .config, addedAt: Date = Date(timeIntervalSince1970: 0)
    ) {
        self.name = name
        self.network = network
        self.role = role
        self.url = url
        self.ws = ws
        self.disabled = disabled
        self.source = source
        self.addedAt = addedAt
    }

    /// Checks a name: 1–64 characters of letters, digits, `-`, `_` and `.`.
    public static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 64
            && name.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || "-_.".unicodeScalars.contains($0) }
            && name.unicodeScalars.allSatisfy(\.isASCII)
    }

    /// Checks an upstream URL: `http`/`https` (or `ws`/`wss` when `websocket`), with a host.
    public static func urlProblem(_ text: String, websocket: Bool = false) -> String? {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased() else {
            return "not a URL"
        }
        let allowed = websocket ? ["ws", "wss"] : ["http", "https"]
        guard allowed.contains(scheme) else {
            return "scheme must be \(allowed.joined(separator: " or ")), not \(scheme)"
        }
        guard let host = components.host, !host.isEmpty else { return "missing host" }
        // The host goes into the `Host` header as it is (percent-decoded): no spaces or control
        // characters, which would end the header early.
        if host.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value == 0x7F }) {
            return "the host has spaces or control characters"
        }
        return nil
    }
}
