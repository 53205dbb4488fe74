import Foundation
import HeadwayCore
import Synchronization

/// A store that keeps everything in memory (tests, and `store: memory`).
public final class InMemoryStore: RegistryStore {
    struct Contents {
        var upstreams: [UpstreamDefinition] = []
        var removed: Set<String> = []
        var health: [String: HealthRecord] = [:]
    }
    let contents = Mutex(Contents())

    public init() {}

    public func migrate() async throws {}

    public func upstreams() async throws -> [UpstreamDefinition] {
        contents.withLock { $0.upstreams }
    }

    public func insert(_ upstream: UpstreamDefinition) async throws {
        try contents.withLock { contents in
            guard !contents.upstreams.contains(where: { $0.name == upstream.name }) else {
                throw StoreError.duplicate(upstream.name)
            }
            contents.upstreams.append(upstream)
            contents.removed.remove(upstream.name)
        }
    }

    public func remove(_ name: String, at date: Date) async throws -> Bool {
        contents.withLock { contents in
            guard let index = contents.upstreams.firstIndex(where: { $0.name == name }) else { return false }
            contents.upstreams.remove(at: index)
            contents.removed.insert(name)
            contents.health[name] = nil
            return true
        }
    }

    public func setDisabled(_ name: String, _ disabled: Bool) async throws -> Bool {
        contents.withLock { contents in
            guard let index = contents.upstreams.firstIndex(where: { $0.name == name }) else { return false }
            contents.upstreams[index].disabled = disabled
            return true
        }
    }

    public func removedNames() async throws -> Set<String> {
        contents.withLock { $0.removed }
    }

    public func apply(_ plan: SeedPlan) async throws {
        contents.withLock { contents in
            contents.upstreams.removeAll { plan.deletes.contains($0.name) }
            for name in plan.deletes { contents.health[name] = nil }
            for update in plan.updates {
                if let index = contents.upstreams.firstIndex(where: { $0.name == update.name }) {
                    contents.upstreams[index] = update
                }
            }
            contents.upstreams += plan.inserts
        }
    }

    public func health() async throws -> [HealthRecord] {
        contents.withLock { Array($0.health.values) }
    }

    public func saveHealth(_ records: [HealthRecord]) async throws {
        contents.withLock { contents in
            for record in records where contents.upstreams.contains(where: { $0.name == record.name }) {
                contents.health[record.name] = record
            }
        }
    }

    public func close() async throws {}
}
