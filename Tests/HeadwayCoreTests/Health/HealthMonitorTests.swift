import Foundation
import HeadwayCore
import HeadwayTesting
import Synchronization
import Testing

@Suite struct HealthMonitorTests {
    func router(_ transports: [(String, UpstreamRole, ScriptedTransport)], maxLag: UInt64 = 10) -> NetworkRouter {
        var config = NetworkConfig(name: "main", chainID: 1)
        config.health.maxLag = maxLag
        config.health.timeout = .milliseconds(200)
        let router = NetworkRouter(config: config)
        for (name, role, transport) in transports {
            router.add(UpstreamDefinition(name: name, network: "main", role: role, url: "http://\(name)"), transport: transport)
        }
        return router
    }

    @Test func aRoundProbesChainIdOnFirstContactOnly() async {
        let a = ScriptedTransport.node("a")
        let router = router([("a", .primary, a)])
        let monitor = HealthMonitor(router: router, clock: ContinuousClock())
        await monitor.runRound()
        await monitor.runRound()
        #expect(a.methods.filter { $0 == "eth_chainId" }.count == 1)
        #expect(a.methods.filter { $0 == "eth_blockNumber" }.count == 2)
        #expect(a.methods.filter { $0 == "eth_syncing" }.count == 2)
        #expect(router.status(of: "a")?.health.state == .healthy)
    }

    @Test func wrongChainAndGarbageAndHangsAreClassified() async {
        let wrong = ScriptedTransport.node("wrong", chainID: 5)
        let garbage = ScriptedTransport { _, _ in "<html>" }
        let hang = ScriptedTransport { _, _ throws(UpstreamFailure) in
            try? await Task.sleep(for: .seconds(30))
            throw UpstreamFailure(.timeout, "hung")
        }
        let good = ScriptedTransport.node("good")
        let router = router([("wrong", .primary, wrong), ("garbage", .primary, garbage), ("hang", .primary, hang), ("good", .primary, good)])
        let started = ContinuousClock.now
        await HealthMonitor(router: router, clock: ContinuousClock()).runRound()
        #expect(started.duration(to: .now) < .seconds(5))
        #expect(router.status(of: "wrong")?.health.state == .wrongChain)
        #expect(router.status(of: "garbage")?.health.state == .unreachable)
        #expect(router.status(of: "hang")?.health.state == .unreachable)
        #expect(router.routingTable.primaries.map(\.name) == ["good"])
    }

    @Test func aRoundOfManyUpstreamsProbesAtMostTheConfiguredNumberAtOnce() async {
        let running = Mutex((now: 0, peak: 0))
        let healthy = ScriptedTransport.healthy("n")
        let transport = ScriptedTransport { method, body throws(UpstreamFailure) in
            running.withLock {
                $0.now += 1; $0.peak = max($0.peak, $0.now)
            }
            try? await Task.sleep(for: .milliseconds(5))
            running.withLock { $0.now -= 1 }
            return try await healthy(method, body)
        }
        var config = NetworkConfig(name: "main", chainID: 1)
        config.health.maxConcurrentProbes = 10
        let router = NetworkRouter(config: config)
        for index in 0..<200 {
            router.add(UpstreamDefinition(name: "n\(index)", network: "main", role: .primary, url: "http://n\(index)"), transport: transport)
        }
        await HealthMonitor(router: router, clock: ContinuousClock()).runRound()
        #expect(router.routingTable.primaries.count == 200)
        // eth_blockNumber and eth_syncing go out together for each upstream probed.
        #expect(running.withLock { $0.peak } <= 20)
        #expect(running.withLock { $0.peak } >= 10)
    }

    @Test func anUnreachableUpstreamIsAskedForItsChainAgain() async {
        let a = ScriptedTransport.node("a")
        let router = router([("a", .primary, a)])
        let monitor = HealthMonitor(router: router, clock: ContinuousClock())
        await monitor.runRound()
        a.set { _, _ throws(UpstreamFailure) in throw UpstreamFailure(.connect, "refused") }
        await monitor.runRound()
        a.set(ScriptedTransport.healthy("a"))
        await monitor.runRound()
        // Round 1 asked it; round 2 failed at eth_blockNumber; round 3 asks again.
        #expect(a.methods.filter { $0 == "eth_chainId" }.count == 2)
        #expect(a.methods.last(where: { $0 == "eth_chainId" }) != nil)
        #expect(router.status(of: "a")?.health.state == .healthy)
    }
}
