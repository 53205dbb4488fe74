import Foundation
import HeadwayCore
import HeadwayStore
import HeadwayStoreSQLite
import Testing

/// The contract every store driver passes.
@Suite struct RegistryStoreContractTests {
    enum Driver: String, CaseIterable, CustomTestStringConvertible {
        case memory, sqlite
        var testDescription: String { rawValue }
    }

    func make(_ driver: Driver) async throws -> any RegistryStore {
        let store: any RegistryStore
        switch driver {
        case .memory: store = InMemoryStore()
        case .sqlite: store = try SQLiteStore(path: ":memory:")
        }
        try await store.migrate()
        return store
    }

    func upstream(_ name: String, source: UpstreamSource = .api, url: String? = nil) -> UpstreamDefinition {
        UpstreamDefinition(
            name: name, network: "main", role: .primary, url: url ?? "http://\(name):8545", ws: "ws://\(name):8546",
            source: source, addedAt: Date(timeIntervalSince1970: 1_700_000_000))
    }

    @Test(arguments: Driver.allCases)
    func insertListRemoveAndDuplicates(driver: Driver) async throws {
        let store = try await make(driver)
        try await store.insert(upstream("a"))
        try await store.insert(upstream("b"))
        await #expect(throws: StoreError.duplicate("a")) { try await store.insert(upstream("a")) }
        #expect(try await store.upstreams() == [upstream("a"), upstream("b")])
        #expect(try await store.remove("a", at: Date()) == true)
        #expect(try await store.remove("a", at: Date()) == false)
        #expect(try await store.upstreams().map(\.name) == ["b"])
        #expect(try await store.removedNames() == ["a"])
        try await store.insert(upstream("a"))
        #expect(try await store.removedNames() == [])
    }

    @Test(arguments: Driver.allCases)
    func disabling(driver: Driver) async throws {
        let store = try await make(driver)
        try await store.insert(upstream("a"))
        #expect(try await store.setDisabled("a", true))
        #expect(try await store.upstreams().first?.disabled == true)
        #expect(try await store.setDisabled("nope", true) == false)
    }

    @Test(arguments: Driver.allCases)
    func seedingKeepsWhatTheAPIChanged(driver: Driver) async throws {
        let store = try await make(driver)
        let date = Date(timeIntervalSince1970: 1_700_000_000)
        try await store.seed([upstream("file-1", source: .config), upstream("file-2", source: .config), upstream("file-3", source: .config)], at: date)
        try await store.insert(upstream("api-1"))
        _ = try await store.remove("file-2", at: date)
        _ = try await store.setDisabled("file-1", true)
        // Next start: the file changed file-1's URL, dropped file-3, and names api-1 too.
        let plan = try await store.seed(
            [
                upstream("file-1", source: .config, url: "http://new:8545"), upstream("file-2", source: .config),
                upstream("api-1", source: .config, url: "http://other"),
            ],
            at: date)
        #expect(plan.skipped.map(\.name).sorted() == ["api-1", "file-2"])
        let records = try await store.upstreams()
        #expect(records.map(\.name).sorted() == ["api-1", "file-1"])
        let file1 = try #require(records.first { $0.name == "file-1" })
        #expect(file1.url == "http://new:8545")
        #expect(file1.disabled == true)
        #expect(records.first { $0.name == "api-1" }?.url == "http://api-1:8545")
    }

    @Test(arguments: Driver.allCases)
    func healthIsSavedAndGoesWithItsUpstream(driver: Driver) async throws {
        let store = try await make(driver)
        try await store.insert(upstream("a"))
        let record = HealthRecord(
            name: "a", state: .lagging, head: 123, lag: 12, latencyMs: 4.5, lastChecked: Date(timeIntervalSince1970: 1_700_000_100),
            stateSince: Date(timeIntervalSince1970: 1_700_000_050))
        try await store.saveHealth([record, HealthRecord(name: "ghost", state: .healthy)])
        #expect(try await store.health() == [record])
        _ = try await store.remove("a", at: Date())
        #expect(try await store.health() == [])
    }

    @Test func sqliteKeepsEverythingAcrossReopening() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("headway-\(UUID().uuidString).db").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            let store = try SQLiteStore(path: path)
            try await store.migrate()
            try await store.insert(upstream("a"))
            try await store.insert(upstream("b"))
            _ = try await store.remove("b", at: Date())
            try await store.close()
        }
        let reopened = try SQLiteStore(path: path)
        try await reopened.migrate()
        #expect(try await reopened.upstreams().map(\.name) == ["a"])
        #expect(try await reopened.removedNames() == ["b"])
        try await reopened.close()
    }
}
