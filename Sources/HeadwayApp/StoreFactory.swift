import HeadwayStore
import HeadwayStoreSQLite

/// Opens the store named by the `store` key.
public enum StoreFactory {
    public static func open(_ url: String) throws -> any RegistryStore {
        if url == "memory" { return InMemoryStore() }
        if url.hasPrefix("sqlite:") {
            return try SQLiteStore(path: String(url.dropFirst("sqlite:".count)))
        }
        // PostgreSQL (cluster mode) comes with its own issue; refuse clearly until then.
        throw StoreError.unsupported("\(url.prefix(while: { $0 != ":" })): only sqlite:PATH and memory are available in this release")
    }
}
