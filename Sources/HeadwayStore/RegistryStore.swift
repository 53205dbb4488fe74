import Foundation
import HeadwayCore

/// The persisted health of one upstream.
public struct HealthRecord: Sendable, Equatable {
    public var name: String
    public var state: UpstreamState
    public var head: UInt64?
    public var lag: UInt64?
    public var latencyMs: Double?
    public var lastChecked: Date?
    public var stateSince: Date?

    public init(
        name: String, state: UpstreamState, head: UInt64? = nil, lag: UInt64? = nil, latencyMs: Double? = nil,
        lastChecked: Date? = nil, stateSince: Date? = nil
    ) {
        self.name = name
        self.state = state
        self.head = head
        self.lag = lag
        self.latencyMs = latencyMs
        self.lastChecked = lastChecked
        self.stateSince = stateSince
    }
}

public enum StoreError: Error, Equatable, CustomStringConvertible {
    case duplicate(String)
    case unsupported(String)

    public var description: String {
        switch self {
        case .duplicate(let name): "an upstream named \(name) already exists"
        case .unsupported(let url): "unsupported store \(url)"
        }
    }
}

/// Where the registry (upstream definitions, removals) and the last health picture live.
/// Every driver passes the same contract tests (`HeadwayStoreTests`).
public protocol RegistryStore: Sendable {
    /// Creates or upgrades the schema.
    func migrate() async throws
    /// All registered upstreams, in the order they were added.
    func upstreams() async throws -> [UpstreamDefinition]
    /// Registers an upstream; throws ``StoreError/duplicate(_:)`` when the name is taken.
    /// Clears a removal of the same name.
    func insert(_ upstream: UpstreamDefinition) async throws
    /// Removes an upstream and remembers the removal (so seeding from the file does not bring it
    /// back); returns whether it existed.
    func remove(_ name: String, at date: Date) async throws -> Bool
    /// Returns whether the upstream existed.
    func setDisabled(_ name: String, _ disabled: Bool) async throws -> Bool
    /// Names removed through the API.
    func removedNames() async throws -> Set<String>
    /// Applies a seeding plan in one transaction.
    func apply(_ plan: SeedPlan) async throws
    func health() async throws -> [HealthRecord]
    func saveHealth(_ records: [HealthRecord]) async throws
    func close() async throws
}

extension RegistryStore {
    /// Seeds the upstreams of the configuration file (see ``SeedPlan`` for the rule) and
    /// returns the plan that was applied.
    @discardableResult
    public func seed(_ fileUpstreams: [UpstreamDefinition], at date: Date = Date()) async throws -> SeedPlan {
        let plan = SeedPlan(existing: try await upstreams(), removed: try await removedNames(), file: fileUpstreams, at: date)
        try await apply(plan)
        return plan
    }
}
