import HeadwayCore
import NIOCore
import NIOPosix
import Synchronization
import Testing

/// The lazily re-armed timer behind hedge delays and node-connection timeouts.
@Suite struct SequentialTimerTests {
    let loop = MultiThreadedEventLoopGroup.singleton.next()

    /// When each action ran, by name, measured from the start.
    final class Runs: Sendable {
        let start = NIODeadline.now()
        let runs = Mutex<[String: TimeAmount]>([:])
        func record(_ name: String) { runs.withLock { $0[name] = .now() - start } }
        var snapshot: [String: TimeAmount] { runs.withLock { $0 } }
    }

    /// Runs `body` on the loop with a new timer.
    func start(_ body: @escaping @Sendable (SequentialTimer, Runs) -> Void) async throws -> Runs {
        let runs = Runs()
        try await loop.submit { body(SequentialTimer(on: loop), runs) }.get()
        return runs
    }

    func wait(_ amount: TimeAmount) async throws {
        try await Task.sleep(for: .nanoseconds(amount.nanoseconds))
    }

    @Test func anActionRunsAtItsDeadlineAndNotBefore() async throws {
        let runs = try await start { timer, runs in
            timer.set(at: runs.start + .milliseconds(200)) { runs.record("a") }
        }
        // When it ran is measured on the loop: a late wake-up of this test cannot make it look early.
        try await wait(.seconds(1))
        let ran = try #require(runs.snapshot["a"])
        #expect(ran >= .milliseconds(200))
    }

    @Test func anEarlierDeadlineAfterALaterOneFiresOnTime() async throws {
        let runs = try await start { timer, runs in
            let late = timer.set(at: runs.start + .seconds(5)) { runs.record("late") }
            timer.clear(late)
            timer.set(at: runs.start + .milliseconds(100)) { runs.record("early") }
        }
        try await wait(.seconds(1))
        #expect(runs.snapshot["early"] != nil)
        #expect(runs.snapshot["late"] == nil)
    }

    @Test func aLaterDeadlineAfterAnEarlierOneIsNotRunEarly() async throws {
        let runs = try await start { timer, runs in
            let early = timer.set(at: runs.start + .milliseconds(50)) { runs.record("early") }
            timer.clear(early)
            // The NIO timer stays armed for 50 ms; this action is due at 300 ms.
            timer.set(at: runs.start + .milliseconds(300)) { runs.record("late") }
        }
        try await wait(.seconds(1))
        let ran = try #require(runs.snapshot["late"])
        #expect(ran >= .milliseconds(300))
        #expect(runs.snapshot["early"] == nil)
    }

    @Test func clearingWithAnOldTokenLeavesTheNewerAction() async throws {
        let runs = try await start { timer, runs in
            let first = timer.set(at: runs.start + .milliseconds(100)) { runs.record("first") }
            // The first operation was handed on (its action replaced); it ends after the second began.
            timer.set(at: runs.start + .milliseconds(150)) { runs.record("second") }
            timer.clear(first)
        }
        try await wait(.seconds(1))
        #expect(runs.snapshot["second"] != nil)
        #expect(runs.snapshot["first"] == nil)
    }

    @Test func cancelStopsThePendingAction() async throws {
        let runs = try await start { timer, runs in
            timer.set(at: runs.start + .milliseconds(100)) { runs.record("a") }
            timer.cancel()
        }
        try await wait(.milliseconds(500))
        #expect(runs.snapshot.isEmpty)
    }
}
