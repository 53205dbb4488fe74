import NIOCore

/// How the request path waits for a hedge delay or a request's deadline. Every forwarded read
/// arms one, and nearly every one is cancelled when the answer comes first, so arming and
/// cancelling must be cheap.
public protocol RequestTimer: Sendable {
    /// Returns at `deadline`, or sooner when the task is cancelled.
    func sleep(until deadline: ContinuousClock.Instant) async
}

/// `Task.sleep`: fine for tests; on Linux its timers go through Dispatch's manager thread, which
/// costs a thread wake-up and a `timerfd_settime` per armed timer.
public struct TaskSleepTimer: RequestTimer {
    public init() {}

    public func sleep(until deadline: ContinuousClock.Instant) async {
        try? await Task.sleep(until: deadline, clock: .continuous)
    }
}

/// Timers of SwiftNIO event loops (a heap per loop, checked by the loop it already runs): what the
/// gateway uses.
public struct EventLoopTimer: RequestTimer {
    let group: any EventLoopGroup

    public init(group: any EventLoopGroup) {
        self.group = group
    }

    public func sleep(until deadline: ContinuousClock.Instant) async {
        let wait = ContinuousClock.now.duration(to: deadline)
        guard wait > .zero else { return }
        let loop = group.any()
        let promise = loop.makePromise(of: Void.self)
        let scheduled = loop.scheduleTask(in: TimeAmount(wait)) {
            promise.succeed()
        }
        await withTaskCancellationHandler {
            try? await promise.futureResult.get()
        } onCancel: {
            scheduled.cancel()
            promise.succeed()
        }
    }
}
