import AsyncHTTPClient
import Foundation
import HeadwayCore
import HeadwayServer
import HeadwayStore
import HeadwayUpstream
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization

/// The whole gateway wired together: store, registry, health monitors, the JSON-RPC server
/// and the admin server, run as one ServiceGroup that drains on SIGTERM/SIGINT.
public final class HeadwayApplication: Sendable {
    public let config: HeadwayConfig
    public let gateway: Gateway
    public let registry: Registry
    let store: any RegistryStore
    let httpClient: HTTPClient?
    let logger: Logger
    let ports = BoundPorts()
    let group = Mutex<ServiceGroup?>(nil)

    /// A start-up refusal: the message is printed as is.
    public struct StartError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Builds the application. `makeTransport` and `store` replace the real ones in tests.
    public init(
        config: HeadwayConfig, logger: Logger = Logger(label: "headway"),
        store: (any RegistryStore)? = nil, makeTransport: UpstreamTransportFactory? = nil
    ) async throws {
        if !config.admin.listen.isLoopback && config.admin.token == nil {
            throw StartError(
                description:
                    "admin.listen \(config.admin.listen) is not a loopback address: set admin.token (e.g. token: ${HEADWAY_ADMIN_TOKEN}) or listen on 127.0.0.1"
            )
        }
        self.config = config
        self.logger = logger
        let store = try store ?? StoreFactory.open(config.store)
        try await store.migrate()
        self.store = store
        let factory: UpstreamTransportFactory
        if let makeTransport {
            factory = makeTransport
            httpClient = nil
        } else {
            let client = HTTPClient.makeUpstreamClient()
            httpClient = client
            // Plain HTTP goes over Headway's own lean HTTP/1.1 pool; HTTPS through AsyncHTTPClient.
            factory = { definition -> any UpstreamTransport in
                if HTTP1UpstreamTransport.handles(definition.url) { return HTTP1UpstreamTransport(url: definition.url) }
                return HTTPUpstreamTransport(client: client, url: definition.url)
            }
        }
        let routers = config.networks.map { NetworkRouter(config: $0, logger: logger, timer: EventLoopTimer(group: MultiThreadedEventLoopGroup.singleton)) }
        gateway = Gateway(networks: routers, server: config.server, logger: logger)
        registry = Registry(gateway: gateway, store: store, makeTransport: factory, logger: logger)
        try await registry.load(fileUpstreams: config.networks.flatMap(\.upstreams))
    }

    /// The JSON-RPC and admin ports once they are bound (useful with port 0).
    public func boundPorts() async -> (rpc: Int, admin: Int) {
        await ports.wait()
    }

    /// Runs until SIGTERM/SIGINT (graceful: in-flight requests finish) or cancellation.
    public func run() async throws {
        let rpcRouter = Router()
        RPCRoutes(gateway: gateway, maxBodyBytes: config.server.maxBodyBytes).register(on: rpcRouter)
        let webSocket = WebSocketEndpoint(gateway: gateway, limits: config.server.ws)
        let rpc = Application(
            router: rpcRouter,
            server: webSocket.serverBuilder(maxBodyBytes: config.server.maxBodyBytes),
            configuration: .init(address: .hostname(config.server.listen.host, port: config.server.listen.port), serverName: "headway"),
            onServerRunning: { [ports] channel in ports.set(rpc: channel.localAddress?.port ?? 0) },
            logger: logger)

        let adminRouter = Router()
        if let token = config.admin.token { adminRouter.add(middleware: BearerTokenMiddleware(token: token)) }
        AdminRoutes(registry: registry).register(on: adminRouter)
        let admin = Application(
            router: adminRouter,
            configuration: .init(address: .hostname(config.admin.listen.host, port: config.admin.listen.port), serverName: "headway-admin"),
            onServerRunning: { [ports] channel in ports.set(admin: channel.localAddress?.port ?? 0) },
            logger: logger)

        let registry = self.registry
        let monitors: [any Service] = gateway.networkNames.map { name in
            HealthMonitor(
                router: gateway.networks[name]!, clock: ContinuousClock(), logger: logger,
                observer: { router, _ in await registry.persistHealth(of: router) })
        }
        // Services stop in reverse order: the admin listener, then the JSON-RPC listener (which
        // drains its in-flight requests while the health monitors still run), then the monitors.
        let idleSweep: [any Service] = [WebSocketIdleSweep(endpoint: webSocket)]
        let hubs: [any Service] = gateway.networkNames.compactMap { gateway.hubs[$0] }
        let feeds: [any Service] = gateway.networkNames.compactMap { name in
            guard let router = gateway.networks[name], let hub = gateway.hubs[name] else { return nil }
            return UpstreamHeadFeeds(router: router, hub: hub, logger: logger)
        }
        var groupConfiguration = ServiceGroupConfiguration(
            services: (monitors + hubs + feeds + idleSweep).map { .init(service: $0) } + [.init(service: rpc), .init(service: admin)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger)
        // Past the drain deadline, what is left is cancelled (connections closed) and the process exits.
        groupConfiguration.maximumGracefulShutdownDuration = config.server.drainTimeout
        groupConfiguration.maximumCancellationDuration = .seconds(5)
        let group = ServiceGroup(configuration: groupConfiguration)
        self.group.withLock { $0 = group }
        logger.info(
            "headway starting",
            metadata: ["listen": "\(config.server.listen)", "admin": "\(config.admin.listen)", "networks": "\(gateway.networkNames.joined(separator: ","))"])
        do {
            try await group.run()
        } catch is CancellationError {
            // The drain deadline passed and the rest was cancelled: still a clean stop.
            logger.warning("drain deadline passed; remaining requests were cut", metadata: ["drain_timeout": "\(config.server.drainTimeout)"])
        } catch {
            await shutdown()
            throw error
        }
        await shutdown()
    }

    /// Stops gracefully, as SIGTERM does: listeners close, in-flight requests finish.
    public func stop() async {
        await group.withLock { $0 }?.triggerGracefulShutdown()
    }

    func shutdown() async {
        try? await httpClient?.shutdown()
        try? await store.close()
    }
}

/// The ports the two listeners bound, published once both are up.
final class BoundPorts: Sendable {
    struct State {
        var rpc: Int?
        var admin: Int?
        var waiters: [CheckedContinuation<(rpc: Int, admin: Int), Never>] = []
    }
    let state = Mutex(State())

    func set(rpc: Int? = nil, admin: Int? = nil) {
        let ready: ((rpc: Int, admin: Int), [CheckedContinuation<(rpc: Int, admin: Int), Never>])? = state.withLock { state in
            if let rpc { state.rpc = rpc }
            if let admin { state.admin = admin }
            guard let rpc = state.rpc, let admin = state.admin else { return nil }
            defer { state.waiters = [] }
            return ((rpc, admin), state.waiters)
        }
        if let (ports, waiters) = ready { waiters.forEach { $0.resume(returning: ports) } }
    }

    func wait() async -> (rpc: Int, admin: Int) {
        await withCheckedContinuation { continuation in
            let ports: (rpc: Int, admin: Int)? = state.withLock { state in
                if let rpc = state.rpc, let admin = state.admin { return (rpc, admin) }
                state.waiters.append(continuation)
                return nil
            }
            if let ports { continuation.resume(returning: ports) }
        }
    }
}
