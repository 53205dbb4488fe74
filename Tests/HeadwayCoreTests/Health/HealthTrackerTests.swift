import Foundation
import HeadwayCore
import Testing

@Suite struct HealthTrackerTests {
    let t0 = Date(timeIntervalSince1970: 1_000_000)
    func at(_ seconds: Double) -> Date { t0.addingTimeInterval(seconds) }

    func tracker(_ names: [String] = ["a", "b"], maxLag: UInt64 = 10, recoverAfter: Int = 2) -> HealthTracker {
        var tracker = HealthTracker(maxLag: maxLag, recoverAfter: recoverAfter)
        for name in names { tracker.track(name, at: t0) }
        return tracker
    }

    func ok(_ head: UInt64, syncing: Bool = false) -> ProbeOutcome {
        .answered(head: head, syncing: syncing, latency: .milliseconds(3))
    }

    @Test func aNewUpstreamEntersRotationAtItsFirstGoodRound() {
        var tracker = tracker()
        #expect(tracker["a"]?.state == .unknown)
        #expect(tracker["a"]?.inRotation == false)
        tracker.apply(["a": ok(100), "b": ok(100)], at: at(5))
        #expect(tracker["a"]?.state == .healthy)
        #expect(tracker["a"]?.inRotation == true)
        #expect(tracker.networkHead == 100)
    }

    @Test func aLaggingUpstreamLeavesAtOnceAndReturnsAfterRecoverAfterGoodRounds() {
        var tracker = tracker(maxLag: 10, recoverAfter: 2)
        tracker.apply(["a": ok(100), "b": ok(100)], at: at(0))
        let transitions = tracker.apply(["a": ok(120), "b": ok(109)], at: at(5))
        #expect(tracker["b"]?.state == .lagging)
        #expect(tracker["b"]?.lag == 11)
        #expect(tracker["b"]?.inRotation == false)
        #expect(transitions == [.init(upstream: "b", from: .healthy, to: .lagging, inRotation: false)])
        #expect(tracker["b"]?.reason?.contains("11 blocks behind") == true)

        tracker.apply(["a": ok(121), "b": ok(121)], at: at(10))
        #expect(tracker["b"]?.state == .healthy)
        #expect(tracker["b"]?.inRotation == false, "one good round is not enough")
        tracker.apply(["a": ok(122), "b": ok(122)], at: at(15))
        #expect(tracker["b"]?.inRotation == true)
        #expect(tracker["b"]?.stateSince == at(10))
    }

    @Test func lagExactlyMaxLagIsHealthy() {
        var tracker = tracker(maxLag: 10)
        tracker.apply(["a": ok(110), "b": ok(100)], at: at(0))
        #expect(tracker["b"]?.state == .healthy)
    }

    @Test func aBadRoundInTheMiddleOfRecoveryRestartsTheCount() {
        var tracker = tracker(recoverAfter: 3)
        tracker.apply(["a": ok(100), "b": ok(100)], at: at(0))
        tracker.apply(["a": ok(100), "b": .unreachable(reason: "refused")], at: at(5))
        tracker.apply(["a": ok(100), "b": ok(100)], at: at(10))
        tracker.apply(["a": ok(100), "b": ok(100)], at: at(15))
        tracker.apply(["a": ok(100), "b": .unreachable(reason: "refused")], at: at(20))
        tracker.apply(["a": ok(100), "b": ok(100)], at: at(25))
        tracker.apply(["a": ok(100), "b": ok(100)], at: at(30))
        #expect(tracker["b"]?.inRotation == false)
        tracker.apply(["a": ok(100), "b": ok(100)], at: at(35))
        #expect(tracker["b"]?.inRotation == true)
    }

    @Test func syncingWrongChainAndUnreachableAreBad() {
        var tracker = tracker(["a", "b", "c", "d"])
        tracker.apply(["a": ok(100), "b": ok(100, syncing: true), "c": .wrongChain(reported: 5), "d": .unreachable(reason: "timeout")], at: at(0))
        #expect(tracker["a"]?.state == .healthy)
        #expect(tracker["b"]?.state == .syncing)
        #expect(tracker["c"]?.state == .wrongChain)
        #expect(tracker["d"]?.state == .unreachable)
        #expect(tracker["b"]?.inRotation == false)
        #expect(tracker["c"]?.inRotation == false)
        #expect(tracker["d"]?.inRotation == false)
        #expect(tracker["c"]?.needsChainCheck == true)
        #expect(tracker["d"]?.needsChainCheck == true)
        #expect(tracker["a"]?.needsChainCheck == false)
    }

    @Test func theNetworkHeadIsTheHighestRightChainAnswerAndSurvivesAnEmptyRound() {
        var tracker = tracker(["a", "b", "c"])
        tracker.apply(["a": ok(100), "b": ok(105), "c": .wrongChain(reported: 9)], at: at(0))
        #expect(tracker.networkHead == 105)
        #expect(tracker["a"]?.state == .healthy)
        tracker.apply(["a": .unreachable(reason: "x"), "b": .unreachable(reason: "x")], at: at(5))
        #expect(tracker.networkHead == 105)
    }

    @Test func disablingTakesAnUpstreamOutAtOnceAndEnablingStartsAfresh() {
        var tracker = tracker()
        tracker.apply(["a": ok(100), "b": ok(100)], at: at(0))
        tracker.disable("b", at: at(1))
        #expect(tracker["b"]?.state == .disabled)
        #expect(tracker["b"]?.inRotation == false)
        tracker.track("b", at: at(2))
        tracker.apply(["a": ok(101), "b": ok(101)], at: at(5))
        #expect(tracker["b"]?.inRotation == true)
    }
}
