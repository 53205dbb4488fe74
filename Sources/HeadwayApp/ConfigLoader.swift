import Foundation
import HeadwayCore
import Yams

/// Reads the YAML configuration into ``HeadwayConfig``: `${ENV}` substituted in values, a
/// default for every key, and every problem reported with its key and line.
public enum ConfigLoader {
    /// The result of a load: the configuration, and what deserves a warning.
    public struct Loaded: Sendable {
        public var config: HeadwayConfig
        /// Environment variables the file references that are unset.
        public var missingVariables: [String]
    }

    public static func load(path: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Loaded {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigErrors(errors: [ConfigError(key: "", line: nil, message: "cannot read \(path): \(error.localizedDescription)")])
        }
        return try parse(text, environment: environment)
    }

    public static func parse(_ text: String, environment: [String: String] = [:]) throws(ConfigErrors) -> Loaded {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw ConfigErrors(errors: [yamlError(error)])
        } catch {
            throw ConfigErrors(errors: [ConfigError(key: "", line: nil, message: "not valid YAML: \(error)")])
        }
        var reader = ConfigReader(environment: environment)
        var config = HeadwayConfig()
        guard let root else {
            throw ConfigErrors(errors: [ConfigError(key: "networks", line: nil, message: "the file is empty; at least one network is required")])
        }
        var sawNetworks = false
        for (key, value) in reader.members(root, at: "", allowed: ["server", "admin", "store", "networks", "alerts"]) {
            switch key {
            case "server": readServer(value, into: &config.server, &reader)
            case "admin": readAdmin(value, into: &config.admin, &reader)
            case "store":
                if let store = reader.string(value, at: "store") {
                    if store.hasPrefix("sqlite:") || store.hasPrefix("postgres://") || store.hasPrefix("postgresql://") || store == "memory" {
                        config.store = store
                    } else {
                        reader.fail("store", value, "expected sqlite:PATH, postgres://... or memory, got \(URLRedactor.redact(store).debugDescription)")
                    }
                }
            case "networks":
                sawNetworks = true
                config.networks = readNetworks(value, &reader)
            case "alerts": readAlerts(value, &reader)
            default: break
            }
        }
        if !sawNetworks {
            reader.fail("networks", nil, "at least one network is required")
        }
        // Upstream names are global: the admin API addresses them by name alone.
        var seen: [String: String] = [:]
        for network in config.networks {
            for upstream in network.upstreams {
                if let other = seen[upstream.name] {
                    reader.errors.append(
                        ConfigError(
                            key: "networks.\(network.name).upstreams", line: nil,
                            message: "duplicate upstream name \(upstream.name) (also in network \(other))"))
                }
                seen[upstream.name] = network.name
            }
        }
        if !reader.errors.isEmpty { throw ConfigErrors(errors: reader.errors) }
        return Loaded(config: config, missingVariables: Array(Set(reader.missingVariables)).sorted())
    }

    static func readServer(_ node: Node, into server: inout ServerConfig, _ reader: inout ConfigReader) {
        let allowed: Set<String> = ["listen", "max_body_bytes", "max_batch", "blocked_methods", "drain_timeout", "ws"]
        for (key, value) in reader.members(node, at: "server", allowed: allowed) {
            let path = "server.\(key)"
            switch key {
            case "ws": readWebSocket(value, into: &server.ws, &reader)
            case "drain_timeout": server.drainTimeout = reader.duration(value, at: path) ?? server.drainTimeout
            case "listen": server.listen = reader.listen(value, at: path) ?? server.listen
            case "max_body_bytes": server.maxBodyBytes = reader.integer(value, at: path, range: 1...1 << 30) ?? server.maxBodyBytes
            case "max_batch": server.maxBatch = reader.integer(value, at: path, range: 1...100_000) ?? server.maxBatch
            case "blocked_methods": server.blockedMethods = reader.stringList(value, at: path) ?? server.blockedMethods
            default: break
            }
        }
    }

    static func readWebSocket(_ node: Node, into ws: inout WebSocketConfig, _ reader: inout ConfigReader) {
        let allowed: Set<String> = [
            "max_connections", "max_subscriptions", "max_message_bytes", "idle_timeout", "send_buffer_bytes", "socket_send_buffer",
        ]
        for (key, value) in reader.members(node, at: "server.ws", allowed: allowed) {
            let path = "server.ws.\(key)"
            switch key {
            case "max_connections": ws.maxConnections = reader.integer(value, at: path, range: 1...1_000_000) ?? ws.maxConnections
            case "max_subscriptions": ws.maxSubscriptions = reader.integer(value, at: path, range: 0...100_000) ?? ws.maxSubscriptions
            case "max_message_bytes": ws.maxMessageBytes = reader.integer(value, at: path, range: 1024...1 << 30) ?? ws.maxMessageBytes
            case "idle_timeout": ws.idleTimeout = reader.duration(value, at: path) ?? ws.idleTimeout
            case "send_buffer_bytes":
                ws.sendBufferBytes = reader.integer(value, at: path, range: 4096...1 << 30) ?? ws.sendBufferBytes
            case "socket_send_buffer":
                ws.socketSendBuffer = reader.integer(value, at: path, range: 4096...1 << 30) ?? ws.socketSendBuffer
            default: break
            }
        }
    }

    static func readAdmin(_ node: Node, into admin: inout AdminConfig, _ reader: inout ConfigReader) {
        for (key, value) in reader.members(node, at: "admin", allowed: ["listen", "token"]) {
            switch key {
            case "listen": admin.listen = reader.listen(value, at: "admin.listen") ?? admin.listen
            case "token":
                let token = reader.string(value, at: "admin.token") ?? ""
                admin.token = token.isEmpty ? nil : token
            default: break
            }
        }
    }

    static func readNetworks(_ node: Node, _ reader: inout ConfigReader) -> [NetworkConfig] {
        var networks: [NetworkConfig] = []
        let members = reader.members(node, at: "networks", allowed: [])
        if case .mapping = node, members.isEmpty {
            reader.fail("networks", node, "at least one network is required")
        }
        for (name, value) in members {
            let path = "networks.\(name)"
            guard name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }), !name.isEmpty else {
                reader.fail(path, value, "network names use letters, digits, '-' and '_' (they become URL paths)")
                continue
            }
            var network = NetworkConfig(name: name, chainID: 0)
            var sawChainID = false
            for (key, member) in reader.members(value, at: path, allowed: ["chain_id", "health", "request", "subscriptions", "cache", "upstreams"]) {
                let memberPath = "\(path).\(key)"
                switch key {
                case "chain_id":
                    sawChainID = true
                    network.chainID = UInt64(reader.integer(member, at: memberPath, range: 1...Int.max) ?? 0)
                case "health": readHealth(member, at: memberPath, into: &network.health, &reader)
                case "request": readRequest(member, at: memberPath, into: &network.request, &reader)
                case "subscriptions": readSubscriptions(member, at: memberPath, into: &network.subscriptions, &reader)
                case "cache": readCache(member, at: memberPath, into: &network.cache, &reader)
                case "upstreams": network.upstreams = readUpstreams(member, at: memberPath, network: name, &reader)
                default: break
                }
            }
            if !sawChainID { reader.fail("\(path).chain_id", value, "required") }
            networks.append(network)
        }
        return networks
    }

    static func readHealth(_ node: Node, at path: String, into health: inout HealthConfig, _ reader: inout ConfigReader) {
        for (key, value) in reader.members(node, at: path, allowed: ["interval", "timeout", "max_lag", "recover_after", "max_concurrent_probes"]) {
            let memberPath = "\(path).\(key)"
            switch key {
            case "interval": health.interval = reader.duration(value, at: memberPath) ?? health.interval
            case "timeout": health.timeout = reader.duration(value, at: memberPath) ?? health.timeout
            case "max_lag": health.maxLag = UInt64(reader.integer(value, at: memberPath, range: 0...1_000_000) ?? Int(health.maxLag))
            case "recover_after": health.recoverAfter = reader.integer(value, at: memberPath, range: 1...1000) ?? health.recoverAfter
            case "max_concurrent_probes":
                health.maxConcurrentProbes = reader.integer(value, at: memberPath, range: 1...100_000) ?? health.maxConcurrentProbes
            default: break
            }
        }
    }

    static func readRequest(_ node: Node, at path: String, into request: inout RequestConfig, _ reader: inout ConfigReader) {
        let allowed: Set<String> = ["attempt_timeout", "deadline", "max_attempts", "retry_on", "hedge", "breaker"]
        for (key, value) in reader.members(node, at: path, allowed: allowed) {
            let memberPath = "\(path).\(key)"
            switch key {
            case "attempt_timeout": request.attemptTimeout = reader.duration(value, at: memberPath) ?? request.attemptTimeout
            case "deadline": request.deadline = reader.duration(value, at: memberPath) ?? request.deadline
            case "max_attempts": request.maxAttempts = reader.integer(value, at: memberPath, range: 1...20) ?? request.maxAttempts
            case "retry_on": readRetryOn(value, at: memberPath, into: &request.retryOn, &reader)
            case "hedge": readHedge(value, at: memberPath, into: &request.hedge, &reader)
            case "breaker": readBreaker(value, at: memberPath, into: &request.breaker, &reader)
            default: break
            }
        }
    }

    static func readCache(_ node: Node, at path: String, into cache: inout CacheConfig, _ reader: inout ConfigReader) {
        for (key, value) in reader.members(node, at: path, allowed: ["enabled", "max_bytes", "finality_depth"]) {
            let memberPath = "\(path).\(key)"
            switch key {
            case "enabled": cache.enabled = reader.boolean(value, at: memberPath) ?? cache.enabled
            case "max_bytes": cache.maxBytes = reader.integer(value, at: memberPath, range: 0...1 << 40) ?? cache.maxBytes
            case "finality_depth":
                cache.finalityDepth = reader.integer(value, at: memberPath, range: 1...1_000_000).map(UInt64.init) ?? cache.finalityDepth
            default: break
            }
        }
    }

    static func readSubscriptions(_ node: Node, at path: String, into subscriptions: inout SubscriptionConfig, _ reader: inout ConfigReader) {
        for (key, value) in reader.members(node, at: path, allowed: ["poll_interval", "max_blocks_per_poll"]) {
            let memberPath = "\(path).\(key)"
            switch key {
            case "poll_interval": subscriptions.pollInterval = reader.duration(value, at: memberPath) ?? subscriptions.pollInterval
            case "max_blocks_per_poll":
                subscriptions.maxBlocksPerPoll = reader.integer(value, at: memberPath, range: 1...10_000) ?? subscriptions.maxBlocksPerPoll
            default: break
            }
        }
    }

    static func readRetryOn(_ node: Node, at path: String, into retryOn: inout RetryableErrors, _ reader: inout ConfigReader) {
        for (key, value) in reader.members(node, at: path, allowed: ["codes", "messages"]) {
            let memberPath = "\(path).\(key)"
            switch key {
            case "codes":
                guard case .sequence(let sequence) = value else {
                    reader.fail(memberPath, value, "expected a list of integers")
                    continue
                }
                retryOn.codes = sequence.enumerated().compactMap {
                    reader.integer($0.element, at: "\(memberPath)[\($0.offset)]", range: Int(Int32.min)...Int(Int32.max))
                }
            case "messages": retryOn.messages = reader.stringList(value, at: memberPath) ?? retryOn.messages
            default: break
            }
        }
    }

    static func readHedge(_ node: Node, at path: String, into hedge: inout HedgeConfig, _ reader: inout ConfigReader) {
        for (key, value) in reader.members(node, at: path, allowed: ["enabled", "min_delay", "max_delay"]) {
            let memberPath = "\(path).\(key)"
            switch key {
            case "enabled": hedge.enabled = reader.boolean(value, at: memberPath) ?? hedge.enabled
            case "min_delay": hedge.minDelay = reader.duration(value, at: memberPath) ?? hedge.minDelay
            case "max_delay": hedge.maxDelay = reader.duration(value, at: memberPath) ?? hedge.maxDelay
            default: break
            }
        }
        if hedge.minDelay > hedge.maxDelay {
            reader.fail("\(path).min_delay", node, "must not be longer than max_delay")
        }
    }

    static func readBreaker(_ node: Node, at path: String, into breaker: inout CircuitBreaker.Config, _ reader: inout ConfigReader) {
        for (key, value) in reader.members(node, at: path, allowed: ["failures", "failure_rate", "window", "cooldown"]) {
            let memberPath = "\(path).\(key)"
            switch key {
            case "failures": breaker.failureThreshold = reader.integer(value, at: memberPath, range: 1...1000) ?? breaker.failureThreshold
            case "failure_rate": breaker.failureRate = reader.fraction(value, at: memberPath) ?? breaker.failureRate
            case "window": breaker.window = reader.integer(value, at: memberPath, range: 1...64) ?? breaker.window
            case "cooldown": breaker.cooldown = reader.duration(value, at: memberPath) ?? breaker.cooldown
            default: break
            }
        }
    }

    static func readUpstreams(_ node: Node, at path: String, network: String, _ reader: inout ConfigReader) -> [UpstreamDefinition] {
        guard case .sequence(let sequence) = node else {
            reader.fail(path, node, "expected a list of upstreams")
            return []
        }
        var upstreams: [UpstreamDefinition] = []
        for (index, item) in sequence.enumerated() {
            let itemPath = "\(path)[\(index)]"
            var name: String?
            var url: String?
            var ws: String?
            var role = UpstreamRole.primary
            for (key, value) in reader.members(item, at: itemPath, allowed: ["name", "url", "ws", "role", "remediation"]) {
                let memberPath = "\(itemPath).\(key)"
                switch key {
                case "name":
                    name = reader.string(value, at: memberPath)
                    if let text = name, !UpstreamDefinition.isValidName(text) {
                        reader.fail(memberPath, value, "invalid name \(text.debugDescription): use 1-64 letters, digits, '-', '_' or '.'")
                    }
                case "url":
                    url = reader.string(value, at: memberPath)
                    if let text = url, let problem = UpstreamDefinition.urlProblem(text) {
                        reader.fail(memberPath, value, "bad URL \(URLRedactor.redact(text).debugDescription): \(problem)")
                    }
                case "ws":
                    ws = reader.string(value, at: memberPath)
                    if let text = ws, let problem = UpstreamDefinition.urlProblem(text, websocket: true) {
                        reader.fail(memberPath, value, "bad URL \(URLRedactor.redact(text).debugDescription): \(problem)")
                    }
                case "role":
                    if let text = reader.string(value, at: memberPath) {
                        if let parsed = UpstreamRole(rawValue: text) {
                            role = parsed
                        } else {
                            reader.fail(memberPath, value, "expected primary or fallback, got \(text.debugDescription)")
                        }
                    }
                case "remediation": readRemediation(value, at: memberPath, &reader)
                default: break
                }
            }
            if name == nil { reader.fail("\(itemPath).name", item, "required") }
            if url == nil { reader.fail("\(itemPath).url", item, "required") }
            if let name, let url {
                if upstreams.contains(where: { $0.name == name }) {
                    reader.fail("\(itemPath).name", item, "duplicate upstream name \(name)")
                }
                upstreams.append(UpstreamDefinition(name: name, network: network, role: role, url: url, ws: ws))
            }
        }
        return upstreams
    }

    /// `remediation` is validated now and acted on by a later release (see docs/configuration.md).
    static func readRemediation(_ node: Node, at path: String, _ reader: inout ConfigReader) {
        for (key, value) in reader.members(node, at: path, allowed: ["after", "run", "webhook", "cooldown", "max_per_hour"]) {
            let memberPath = "\(path).\(key)"
            switch key {
            case "after", "cooldown": _ = reader.duration(value, at: memberPath)
            case "max_per_hour": _ = reader.integer(value, at: memberPath, range: 1...3600)
            default: _ = reader.string(value, at: memberPath)
            }
        }
    }

    /// `alerts` is validated now and acted on by a later release (see docs/configuration.md).
    static func readAlerts(_ node: Node, _ reader: inout ConfigReader) {
        guard case .sequence(let sequence) = node else {
            reader.fail("alerts", node, "expected a list")
            return
        }
        for (index, item) in sequence.enumerated() {
            let itemPath = "alerts[\(index)]"
            for (key, value) in reader.members(item, at: itemPath, allowed: ["webhook", "format", "min_healthy", "cooldown"]) {
                let memberPath = "\(itemPath).\(key)"
                switch key {
                case "webhook":
                    if let text = reader.string(value, at: memberPath), let problem = UpstreamDefinition.urlProblem(text) {
                        reader.fail(memberPath, value, "bad URL: \(problem)")
                    }
                case "format":
                    if let text = reader.string(value, at: memberPath), !["slack", "json"].contains(text) {
                        reader.fail(memberPath, value, "expected slack or json, got \(text.debugDescription)")
                    }
                case "min_healthy": _ = reader.integer(value, at: memberPath, range: 0...10_000)
                case "cooldown": _ = reader.duration(value, at: memberPath)
                default: break
                }
            }
        }
    }

    static func yamlError(_ error: YamlError) -> ConfigError {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
            return ConfigError(key: "", line: mark.line, message: "not valid YAML: \(problem)")
        default:
            return ConfigError(key: "", line: nil, message: "not valid YAML: \(error)")
        }
    }
}
