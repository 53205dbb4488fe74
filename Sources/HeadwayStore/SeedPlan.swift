import Foundation
import HeadwayCore

/// How the upstreams of the configuration file are merged into the store at start.
///
/// - A file upstream with no record is inserted, unless it was removed through the API (a
///   removal sticks until the name is added again through the API).
/// - A file upstream that already has a file-sourced record takes the file's URL, WebSocket URL,
///   role and network; whether it is disabled stays as the operator left it.
/// - A name taken by an upstream added through the API stays the API's; the file entry is skipped.
/// - A file-sourced record whose upstream is no longer in the file is deleted.
public struct SeedPlan: Sendable, Equatable {
    public var inserts: [UpstreamDefinition] = []
    public var updates: [UpstreamDefinition] = []
    public var deletes: [String] = []
    /// File upstreams left out, with the reason (for a log line).
    public var skipped: [(name: String, reason: String)] = []

    public init(existing: [UpstreamDefinition], removed: Set<String>, file: [UpstreamDefinition], at date: Date) {
        let byName = Dictionary(existing.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let fileNames = Set(file.map(\.name))
        for var upstream in file {
            upstream.source = .config
            if let record = byName[upstream.name] {
                guard record.source == .config else {
                    skipped.append((upstream.name, "the name belongs to an upstream added through the API"))
                    continue
                }
                upstream.disabled = record.disabled
                upstream.addedAt = record.addedAt
                if upstream != record { updates.append(upstream) }
            } else if removed.contains(upstream.name) {
                skipped.append((upstream.name, "removed through the API"))
            } else {
                upstream.addedAt = date
                inserts.append(upstream)
            }
        }
        deletes = existing.filter { $0.source == .config && !fileNames.contains($0.name) }.map(\.name)
    }

    public static func == (lhs: SeedPlan, rhs: SeedPlan) -> Bool {
        lhs.inserts == rhs.inserts && lhs.updates == rhs.updates && lhs.deletes == rhs.deletes
            && lhs.skipped.map(\.name) == rhs.skipped.map(\.name)
    }
}
