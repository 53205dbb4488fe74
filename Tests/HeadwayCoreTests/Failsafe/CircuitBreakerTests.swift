import HeadwayCore
import Testing

@Suite struct CircuitBreakerTests {
    let start = ContinuousClock.now

    func at(_ milliseconds: Int) -> ContinuousClock.Instant { start.advanced(by: .milliseconds(milliseconds)) }

    func breaker() -> CircuitBreaker {
        var config = CircuitBreaker.Config()
        config.failureThreshold = 3
        config.failureRate = 0.5
        config.window = 10
        config.cooldown = .seconds(1)
        return CircuitBreaker(config: config)
    }

    func opened() -> CircuitBreaker {
        var breaker = breaker()
        for _ in 0..<3 { breaker.recordFailure(at: at(0)) }
        return breaker
    }

    @Test func opensAfterConsecutiveFailuresAndRefusesUntilTheCooldown() {
        var breaker = breaker()
        breaker.recordFailure(at: at(0))
        breaker.recordFailure(at: at(0))
        #expect(breaker.state == .closed)
        let allowed1 = breaker.allow(at: at(0))
        #expect(allowed1)
        breaker.recordFailure(at: at(0))
        #expect(breaker.state == .open)
        let allowed2 = breaker.allow(at: at(999))
        #expect(!allowed2)
        #expect(!breaker.wouldAllow(at: at(999)))
    }

    @Test func aSuccessBreaksTheStreak() {
        var breaker = breaker()
        for _ in 0..<2 { breaker.recordFailure(at: at(0)) }
        breaker.recordSuccess()
        for _ in 0..<2 { breaker.recordFailure(at: at(0)) }
        #expect(breaker.state == .closed)
    }

    @Test func halfOpenLetsExactlyOneProbeThrough() {
        var breaker = opened()
        #expect(breaker.wouldAllow(at: at(1000)))
        let allowed3 = breaker.allow(at: at(1000))
        #expect(allowed3)
        #expect(breaker.state == .halfOpen)
        let allowed4 = breaker.allow(at: at(1001))
        #expect(!allowed4, "a second request waits for the probe")
        breaker.recordSuccess()
        #expect(breaker.state == .closed)
        let allowed5 = breaker.allow(at: at(1002))
        #expect(allowed5)
    }

    @Test func aFailedProbeOpensItForAnotherCooldown() {
        var breaker = opened()
        let allowed6 = breaker.allow(at: at(1000))
        #expect(allowed6)
        breaker.recordFailure(at: at(1000))
        #expect(breaker.state == .open)
        let allowed7 = breaker.allow(at: at(1999))
        #expect(!allowed7)
        let allowed8 = breaker.allow(at: at(2000))
        #expect(allowed8)
    }

    @Test func aCancelledProbeFreesTheSlot() {
        var breaker = opened()
        let allowed9 = breaker.allow(at: at(1000))
        #expect(allowed9)
        breaker.releaseProbe()
        let allowed10 = breaker.allow(at: at(1001))
        #expect(allowed10)
    }

    @Test func aHighFailureRateOpensItWithoutAStreak() {
        var breaker = breaker()
        // success, failure, success, failure ...: never two failures in a row, half of them failed.
        for index in 0..<9 {
            if index % 2 == 0 { breaker.recordSuccess() } else { breaker.recordFailure(at: at(0)) }
        }
        #expect(breaker.state == .closed, "the window is not full yet")
        breaker.recordFailure(at: at(0))
        #expect(breaker.state == .open)
    }

    @Test func resetClosesIt() {
        var breaker = opened()
        breaker.reset()
        #expect(breaker.state == .closed)
        #expect(breaker.consecutiveFailures == 0)
    }
}
