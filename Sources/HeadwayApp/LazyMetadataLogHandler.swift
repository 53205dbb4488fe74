import Logging

/// swift-log's `StreamLogHandler`, except that setting metadata costs nothing until a message is
/// actually logged. `StreamLogHandler` formats its metadata on every change, and Hummingbird sets
/// a request id on every request's logger: with the stock handler that is a string build per
/// request even when nothing is logged.
public struct LazyMetadataLogHandler: LogHandler {
    var inner: StreamLogHandler
    public var metadata = Logger.Metadata()

    public init(_ inner: StreamLogHandler) {
        self.inner = inner
    }

    public var logLevel: Logger.Level {
        get { inner.logLevel }
        set { inner.logLevel = newValue }
    }

    public var metadataProvider: Logger.MetadataProvider? {
        get { inner.metadataProvider }
        set { inner.metadataProvider = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var event = event
        if !metadata.isEmpty {
            event.metadata = metadata.merging(event.metadata ?? [:]) { _, explicit in explicit }
        }
        inner.log(event: event)
    }
}
