import Foundation
import GRDB
import HeadwayCore
import HeadwayStore

/// The default store: one SQLite file (WAL mode), schema managed by GRDB migrations.
public final class SQLiteStore: RegistryStore {
    let database: DatabaseQueue

    /// Opens (creating when needed) the database at `path`; `:memory:` for a private one.
    public init(path: String) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        if path == ":memory:" {
            database = try DatabaseQueue(configuration: configuration)
        } else {
            database = try DatabaseQueue(path: path, configuration: configuration)
        }
    }

    public func migrate() async throws {
        try Self.migrator.migrate(database)
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-registry") { db in
            try db.execute(
                sql: """
                    CREATE TABLE upstreams (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT,
                        name TEXT NOT NULL UNIQUE,
                        network TEXT NOT NULL,
                        role TEXT NOT NULL,
                        url TEXT NOT NULL,
                        ws TEXT,
                        disabled INTEGER NOT NULL DEFAULT 0,
                        source TEXT NOT NULL,
                        added_at REAL NOT NULL
                    );
                    CREATE TABLE removed_upstreams (
                        name TEXT PRIMARY KEY,
                        removed_at REAL NOT NULL
                    );
                    CREATE TABLE upstream_health (
                        name TEXT PRIMARY KEY REFERENCES upstreams(name) ON DELETE CASCADE,
                        state TEXT NOT NULL,
                        head INTEGER,
                        lag INTEGER,
                        latency_ms REAL,
                        last_checked REAL,
                        state_since REAL
                    );
                    """)
        }
        return migrator
    }

    public func upstreams() async throws -> [UpstreamDefinition] {
        try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM upstreams ORDER BY seq").map(Self.definition)
        }
    }

    static func definition(_ row: Row) -> UpstreamDefinition {
        UpstreamDefinition(
            name: row["name"], network: row["network"], role: UpstreamRole(rawValue: row["role"]) ?? .primary,
            url: row["url"], ws: row["ws"], disabled: row["disabled"],
            source: UpstreamSource(rawValue: row["source"]) ?? .api,
            addedAt: Date(timeIntervalSince1970: row["added_at"]))
    }

    public func insert(_ upstream: UpstreamDefinition) async throws {
        try await database.write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM upstreams WHERE name = ?", arguments: [upstream.name]) != nil {
                throw StoreError.duplicate(upstream.name)
            }
            try Self.insert(upstream, db)
            try db.execute(sql: "DELETE FROM removed_upstreams WHERE name = ?", arguments: [upstream.name])
        }
    }

    static func insert(_ upstream: UpstreamDefinition, _ db: Database) throws {
        try db.execute(
            sql: """
                INSERT INTO upstreams (name, network, role, url, ws, disabled, source, added_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                upstream.name, upstream.network, upstream.role.rawValue, upstream.url, upstream.ws, upstream.disabled,
                upstream.source.rawValue, upstream.addedAt.timeIntervalSince1970,
            ])
    }

    public func remove(_ name: String, at date: Date) async throws -> Bool {
        try await database.write { db in
            try db.execute(sql: "DELETE FROM upstream_health WHERE name = ?", arguments: [name])
            try db.execute(sql: "DELETE FROM upstreams WHERE name = ?", arguments: [name])
            guard db.changesCount > 0 else { return false }
            try db.execute(
                sql: "INSERT OR REPLACE INTO removed_upstreams (name, removed_at) VALUES (?, ?)",
                arguments: [name, date.timeIntervalSince1970])
            return true
        }
    }

    public func setDisabled(_ name: String, _ disabled: Bool) async throws -> Bool {
        try await database.write { db in
            try db.execute(sql: "UPDATE upstreams SET disabled = ? WHERE name = ?", arguments: [disabled, name])
            return db.changesCount > 0
        }
    }

    public func removedNames() async throws -> Set<String> {
        try await database.read { db in
            Set(try String.fetchAll(db, sql: "SELECT name FROM removed_upstreams"))
        }
    }

    public func apply(_ plan: SeedPlan) async throws {
        try await database.write { db in
            for name in plan.deletes {
                try db.execute(sql: "DELETE FROM upstream_health WHERE name = ?", arguments: [name])
                try db.execute(sql: "DELETE FROM upstreams WHERE name = ?", arguments: [name])
            }
            for update in plan.updates {
                try db.execute(
                    sql: "UPDATE upstreams SET network = ?, role = ?, url = ?, ws = ? WHERE name = ?",
                    arguments: [update.network, update.role.rawValue, update.url, update.ws, update.name])
            }
            for upstream in plan.inserts { try Self.insert(upstream, db) }
        }
    }

    public func health() async throws -> [HealthRecord] {
        try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM upstream_health").map { row in
                HealthRecord(
                    name: row["name"], state: UpstreamState(rawValue: row["state"]) ?? .unknown,
                    head: (row["head"] as Int64?).map { UInt64(bitPattern: $0) },
                    lag: (row["lag"] as Int64?).map { UInt64(bitPattern: $0) },
                    latencyMs: row["latency_ms"],
                    lastChecked: (row["last_checked"] as Double?).map(Date.init(timeIntervalSince1970:)),
                    stateSince: (row["state_since"] as Double?).map(Date.init(timeIntervalSince1970:)))
            }
        }
    }

    public func saveHealth(_ records: [HealthRecord]) async throws {
        try await database.write { db in
            for record in records {
                try db.execute(
                    sql: """
                        INSERT INTO upstream_health (name, state, head, lag, latency_ms, last_checked, state_since)
                        SELECT ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM upstreams WHERE name = ?)
                        ON CONFLICT(name) DO UPDATE SET state = excluded.state, head = excluded.head, lag = excluded.lag,
                            latency_ms = excluded.latency_ms, last_checked = excluded.last_checked,
                            state_since = excluded.state_since
                        """,
                    arguments: [
                        record.name, record.state.rawValue, record.head.map { Int64(bitPattern: $0) },
                        record.lag.map { Int64(bitPattern: $0) }, record.latencyMs,
                        record.lastChecked?.timeIntervalSince1970, record.stateSince?.timeIntervalSince1970, record.name,
                    ])
            }
        }
    }

    public func close() async throws {
        try database.close()
    }
}
