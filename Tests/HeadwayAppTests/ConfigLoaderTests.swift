import HeadwayApp
import HeadwayCore
import Testing

@Suite struct ConfigLoaderTests {
    func errors(_ yaml: String) -> [ConfigError] {
        do {
            _ = try ConfigLoader.parse(yaml)
            return []
        } catch {
            return error.errors
        }
    }

    @Test func theProductExampleLoadsWithDefaults() throws {
        let yaml = """
            server:
              listen: 127.0.0.1:8545
              max_body_bytes: 5242880
              max_batch: 1000
            admin:
              listen: 127.0.0.1:8550
              token: ${HEADWAY_ADMIN_TOKEN}
            store: sqlite:headway.db
            networks:
              mainnet:
                chain_id: 1
                health: { interval: 5s, timeout: 2s, max_lag: 10, recover_after: 2 }
                upstreams:
                  - { name: public, url: "https://mainnet.example/v3/${KEY}", role: fallback }
                  - { name: node-1, url: "http://10.0.0.5:8545", ws: "ws://10.0.0.5:8546" }
                  - name: node-2
                    url: http://10.0.0.6:8545
                    remediation: { after: 90s, run: "docker restart node-2", cooldown: 10m, max_per_hour: 3 }
            alerts:
              - { webhook: "https://hooks.slack.example/T000/B000/XXX", format: slack, min_healthy: 1 }
            """
        let loaded = try ConfigLoader.parse(yaml, environment: ["KEY": "abc123", "HEADWAY_ADMIN_TOKEN": "t0ken"])
        let config = loaded.config
        #expect(config.admin.token == "t0ken")
        #expect(config.networks.map(\.name) == ["mainnet"])
        let network = config.networks[0]
        #expect(network.chainID == 1)
        #expect(network.health.interval == .seconds(5))
        #expect(network.upstreams.map(\.name) == ["public", "node-1", "node-2"])
        #expect(network.upstreams[0].url == "https://mainnet.example/v3/abc123")
        #expect(network.upstreams[0].role == .fallback)
        #expect(network.upstreams[1].ws == "ws://10.0.0.5:8546")
        #expect(loaded.missingVariables == [])
    }

    @Test func everyKeyHasADefault() throws {
        let config = try ConfigLoader.parse("networks:\n  dev:\n    chain_id: 1337\n").config
        #expect(config.server.listen == ListenAddress(host: "127.0.0.1", port: 8545))
        #expect(config.admin.listen == ListenAddress(host: "127.0.0.1", port: 8550))
        #expect(config.server.maxBodyBytes == 5_242_880)
        #expect(config.server.maxBatch == 1000)
        #expect(config.store == "sqlite:headway.db")
        #expect(config.networks[0].health == HealthConfig())
        #expect(config.networks[0].health.maxLag == 10)
        #expect(config.networks[0].health.recoverAfter == 2)
        #expect(config.networks[0].health.maxConcurrentProbes == 128)
    }

    @Test func probeConcurrencyLoadsAndIsBounded() throws {
        let config = try ConfigLoader.parse("networks:\n  dev:\n    chain_id: 1\n    health: { max_concurrent_probes: 16 }\n").config
        #expect(config.networks[0].health.maxConcurrentProbes == 16)
        #expect(throws: ConfigErrors.self) {
            try ConfigLoader.parse("networks:\n  dev:\n    chain_id: 1\n    health: { max_concurrent_probes: 0 }\n")
        }
    }

    @Test func theFailsafeKeysLoad() throws {
        let yaml = """
            server:
              drain_timeout: 30s
              ws: { max_connections: 50, max_subscriptions: 3, max_message_bytes: 65536, idle_timeout: 1m, send_buffer_bytes: 65536 }
            networks:
              dev:
                chain_id: 1
                request:
                  attempt_timeout: 1s
                  deadline: 4s
                  max_attempts: 5
                  retry_on: { codes: [-32005, -32099], messages: ["warming up"] }
                  hedge: { enabled: false, min_delay: 20ms, max_delay: 200ms }
                  breaker: { failures: 3, failure_rate: 0.25, window: 40, cooldown: 30s }
                subscriptions: { poll_interval: 250ms, max_blocks_per_poll: 16 }
                cache: { enabled: false, max_bytes: 1048576, finality_depth: 12 }
            """
        let config = try ConfigLoader.parse(yaml).config
        #expect(config.server.drainTimeout == .seconds(30))
        let request = config.networks[0].request
        #expect(request.attemptTimeout == .seconds(1))
        #expect(request.deadline == .seconds(4))
        #expect(request.maxAttempts == 5)
        #expect(request.retryOn.codes == [-32005, -32099])
        #expect(request.retryOn.messages == ["warming up"])
        #expect(request.hedge.enabled == false)
        #expect(request.hedge.minDelay == .milliseconds(20))
        #expect(request.hedge.maxDelay == .milliseconds(200))
        #expect(request.breaker.failureThreshold == 3)
        #expect(request.breaker.failureRate == 0.25)
        #expect(request.breaker.window == 40)
        #expect(request.breaker.cooldown == .seconds(30))
        #expect(config.server.ws.maxConnections == 50)
        #expect(config.server.ws.maxSubscriptions == 3)
        #expect(config.server.ws.maxMessageBytes == 65536)
        #expect(config.server.ws.idleTimeout == .seconds(60))
        #expect(config.server.ws.sendBufferBytes == 65536)
        #expect(config.networks[0].subscriptions.pollInterval == .milliseconds(250))
        #expect(config.networks[0].subscriptions.maxBlocksPerPoll == 16)
        #expect(config.networks[0].cache.enabled == false && config.networks[0].cache.maxBytes == 1_048_576)
        #expect(config.networks[0].cache.finalityDepth == 12)
        let defaults = try ConfigLoader.parse("networks:\n  dev:\n    chain_id: 1\n").config
        #expect(defaults.networks[0].request == RequestConfig())
        #expect(defaults.server.drainTimeout == .seconds(10))
        #expect(defaults.server.ws == WebSocketConfig())
        #expect(defaults.networks[0].subscriptions == SubscriptionConfig())
    }

    @Test func unsetVariablesAreReportedAndDefaultsApply() throws {
        let loaded = try ConfigLoader.parse(
            "admin:\n  token: ${NOPE}\nnetworks:\n  dev:\n    chain_id: ${CHAIN:-1337}\n", environment: [:])
        #expect(loaded.config.admin.token == nil)
        #expect(loaded.config.networks[0].chainID == 1337)
        #expect(loaded.missingVariables == ["NOPE"])
    }

    @Test(arguments: [
        ("networks:\n  dev:\n    chain_id: 1\n    helth: {}\n", "networks.dev.helth", 4, "unknown key"),
        ("networks:\n  dev:\n    chain_id: one\n", "networks.dev.chain_id", 3, "expected an integer"),
        ("networks:\n  dev:\n    chain_id: 1\n    health:\n      interval: 5 parsecs\n", "networks.dev.health.interval", 5, "duration"),
        ("networks:\n  dev:\n    chain_id: 1\n    upstreams:\n      - { name: a, url: ftp://x }\n", "networks.dev.upstreams[0].url", 5, "scheme"),
        ("networks:\n  dev:\n    chain_id: 1\n    upstreams:\n      - { name: a, url: \"not a url\" }\n", "networks.dev.upstreams[0].url", 5, "URL"),
        (
            "networks:\n  dev:\n    chain_id: 1\n    upstreams:\n      - { name: a, url: \"http://x%0d%0aevil/\" }\n",
            "networks.dev.upstreams[0].url", 5, "control characters"
        ),
        (
            "networks:\n  dev:\n    chain_id: 1\n    upstreams:\n      - { name: a, url: http://x }\n      - { name: a, url: http://y }\n",
            "networks.dev.upstreams[1].name", 6, "duplicate"
        ),
        ("server:\n  listen: nowhere\nnetworks:\n  dev:\n    chain_id: 1\n", "server.listen", 2, "host:port"),
        ("server:\n  max_batch: []\nnetworks:\n  dev:\n    chain_id: 1\n", "server.max_batch", 2, "expected a string"),
        ("networks:\n  dev:\n    health: {}\n", "networks.dev.chain_id", 3, "required"),
        ("networks:\n  dev:\n    chain_id: 1\n    upstreams:\n      - { url: http://x }\n", "networks.dev.upstreams[0].name", 5, "required"),
        ("networks:\n  dev:\n    chain_id: 1\n    request:\n      max_attempts: 0\n", "networks.dev.request.max_attempts", 5, "between 1 and 20"),
        ("networks:\n  dev:\n    chain_id: 1\n    request:\n      hedge: { enabled: maybe }\n", "networks.dev.request.hedge.enabled", 5, "true or false"),
        ("networks:\n  dev:\n    chain_id: 1\n    request:\n      breaker: { failure_rate: 2 }\n", "networks.dev.request.breaker.failure_rate", 5, "at most 1"),
        ("networks:\n  dev:\n    chain_id: 1\n    request:\n      retry_on: { codes: [x] }\n", "networks.dev.request.retry_on.codes[0]", 5, "integer"),
        ("server:\n  drain_timeout: soon\nnetworks:\n  dev:\n    chain_id: 1\n", "server.drain_timeout", 2, "duration"),
        ("server:\n  ws: { send_buffer_bytes: 0 }\nnetworks:\n  dev:\n    chain_id: 1\n", "server.ws.send_buffer_bytes", 2, "between"),
        ("networks:\n  dev:\n    chain_id: 1\n    subscriptions: { poll: 1s }\n", "networks.dev.subscriptions.poll", 4, "unknown key"),
    ])
    func problemsNameTheKeyAndLine(yaml: String, key: String, line: Int, message: String) {
        let found = errors(yaml)
        #expect(found.contains { $0.key == key && $0.line == line && $0.message.contains(message) }, "\(found)")
    }

    @Test func duplicateNamesAcrossNetworksAreRefused() {
        let found = errors(
            "networks:\n  a:\n    chain_id: 1\n    upstreams: [{ name: n, url: http://x }]\n  b:\n    chain_id: 2\n    upstreams: [{ name: n, url: http://y }]\n"
        )
        #expect(found.contains { $0.message.contains("duplicate upstream name n") })
    }

    @Test func brokenYAMLHasALine() {
        let found = errors("networks:\n  dev:\n    chain_id: [1\n")
        #expect(found.first?.line != nil)
        #expect(found.first?.message.contains("YAML") == true)
    }

    @Test func secretsInBadURLsAreNotEchoed() {
        let found = errors("networks:\n  dev:\n    chain_id: 1\n    upstreams:\n      - { name: a, url: \"ftp://user:hunter2@x/\" }\n")
        #expect(!found.description.contains("hunter2"))
    }
}
