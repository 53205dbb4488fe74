import Foundation
import HeadwayCore
import HeadwayStore
import Logging

/// Applies registry changes to the store and to the running gateway together, so that what is
/// served and what survives a restart never disagree. The admin API and start-up go through it.
public actor Registry {
    public let gateway: Gateway
    let store: any RegistryStore
    let makeTransport: UpstreamTransportFactory
    let logger: Logger

    public init(gateway: Gateway, store: any RegistryStore, makeTransport: @escaping UpstreamTransportFactory, logger: Logger) {
        self.gateway = gateway
        self.store = store
        self.makeTransport = makeTransport
        self.logger = logger
    }

    /// A refused change, with the HTTP status the admin API answers.
    public struct Refusal: Error, Equatable {
        public var status: Int
        public var message: String
    }

    /// Seeds the file's upstreams, then loads the whole registry and its last health into the
    /// gateway. Upstreams of networks that are no longer configured are kept in the store but not
    /// served (and logged).
    public func load(fileUpstreams: [UpstreamDefinition]) async throws {
        let plan = try await store.seed(fileUpstreams)
        for (name, reason) in plan.skipped {
            logger.warning("upstream from the configuration file not seeded", metadata: ["upstream": "\(name)", "reason": "\(reason)"])
        }
        let health = Dictionary(try await store.health().map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        for definition in try await store.upstreams() {
            guard let network = gateway.networks[definition.network] else {
                logger.warning(
                    "upstream belongs to a network that is not configured; not served",
                    metadata: ["upstream": "\(definition.name)", "network": "\(definition.network)"])
                continue
            }
            network.add(definition, transport: makeTransport(definition))
            if let record = health[definition.name] {
                network.restore(definition.name, state: record.state, head: record.head, stateSince: record.stateSince)
            }
        }
    }

    /// Validates and registers a new upstream (source `api`).
    public func add(name: String, url: String, ws: String?, role: String?, network: String?) async throws(Refusal) -> UpstreamStatus {
        guard UpstreamDefinition.isValidName(name) else {
            throw Refusal(status: 400, message: "invalid name \(name.debugDescription): use 1-64 letters, digits, '-', '_' or '.'")
        }
        if let problem = UpstreamDefinition.urlProblem(url) {
            throw Refusal(status: 400, message: "invalid url: \(problem)")
        }
        if let ws, let problem = UpstreamDefinition.urlProblem(ws, websocket: true) {
            throw Refusal(status: 400, message: "invalid ws: \(problem)")
        }
        var parsedRole = UpstreamRole.primary
        if let role {
            guard let value = UpstreamRole(rawValue: role) else {
                throw Refusal(status: 400, message: "invalid role \(role.debugDescription): use primary or fallback")
            }
            parsedRole = value
        }
        let router: NetworkRouter
        if let network {
            guard let found = gateway.networks[network] else {
                throw Refusal(status: 400, message: "unknown network \(network.debugDescription); configured: \(gateway.networkNames.joined(separator: ", "))")
            }
            router = found
        } else {
            guard let only = gateway.defaultNetwork else {
                throw Refusal(status: 400, message: "network is required when several networks are configured: \(gateway.networkNames.joined(separator: ", "))")
            }
            router = only
        }
        let definition = UpstreamDefinition(
            name: name, network: router.name, role: parsedRole, url: url, ws: ws, source: .api, addedAt: Date())
        do {
            try await store.insert(definition)
        } catch StoreError.duplicate {
            throw Refusal(status: 409, message: "an upstream named \(name) already exists")
        } catch {
            throw Refusal(status: 500, message: "the store failed: \(error)")
        }
        router.add(definition, transport: makeTransport(definition))
        logger.info("upstream added", metadata: ["upstream": "\(name)", "network": "\(router.name)", "url": "\(URLRedactor.redact(url))"])
        return router.status(of: name)!
    }

    public func remove(_ name: String) async throws(Refusal) {
        guard let router = network(of: name) else { throw notFound(name) }
        do {
            _ = try await store.remove(name, at: Date())
        } catch {
            throw Refusal(status: 500, message: "the store failed: \(error)")
        }
        router.remove(name)
        logger.info("upstream removed", metadata: ["upstream": "\(name)"])
    }

    public func setDisabled(_ name: String, _ disabled: Bool) async throws(Refusal) -> UpstreamStatus {
        guard let router = network(of: name) else { throw notFound(name) }
        do {
            _ = try await store.setDisabled(name, disabled)
        } catch {
            throw Refusal(status: 500, message: "the store failed: \(error)")
        }
        router.setDisabled(name, disabled)
        logger.info(disabled ? "upstream disabled" : "upstream enabled", metadata: ["upstream": "\(name)"])
        return router.status(of: name)!
    }

    /// Persists the health picture of a network (called after each round).
    public func persistHealth(of router: NetworkRouter) async {
        let records = router.statuses().map { status in
            HealthRecord(
                name: status.definition.name, state: status.health.state, head: status.health.head, lag: status.health.lag,
                latencyMs: status.health.latency.map(\.milliseconds), lastChecked: status.health.lastChecked,
                stateSince: status.health.stateSince)
        }
        do {
            try await store.saveHealth(records)
        } catch {
            logger.error("could not persist health", metadata: ["network": "\(router.name)", "error": "\(error)"])
        }
    }

    nonisolated func network(of name: String) -> NetworkRouter? {
        gateway.networkNames.lazy.compactMap { self.gateway.networks[$0] }.first { $0.status(of: name) != nil }
    }

    nonisolated func notFound(_ name: String) -> Refusal {
        Refusal(status: 404, message: "no upstream named \(name)")
    }
}
