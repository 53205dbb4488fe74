import NIOCore
import NIOWebSocket
import Synchronization

/// The outgoing WebSocket messages for the connections of one event loop, coalesced: messages
/// queued from any thread are written by one task on the loop, with one flush per connection, so
/// a block fanned out to 10,000 clients costs a hop per event loop rather than one per client.
final class EventLoopWriteQueue: Sendable {
    struct Pending {
        var messages: [(connection: WebSocketConnection, message: ByteBuffer)] = []
        var scheduled = false
    }

    let loop: any EventLoop
    let pending = Mutex(Pending())

    init(loop: any EventLoop) {
        self.loop = loop
    }

    /// Queues `message` for `connection` (whose channel is on this loop).
    func enqueue(_ message: ByteBuffer, for connection: WebSocketConnection) {
        let schedule = pending.withLock { pending in
            pending.messages.append((connection, message))
            defer { pending.scheduled = true }
            return !pending.scheduled
        }
        if schedule { loop.execute { self.drain() } }
    }

    /// On the loop: writes everything queued, then flushes each connection once.
    func drain() {
        let messages = pending.withLock { pending in
            defer {
                pending.messages.removeAll(keepingCapacity: true)
                pending.scheduled = false
            }
            return pending.messages
        }
        var flush: [ObjectIdentifier: any Channel] = [:]
        for (connection, message) in messages {
            let promise = loop.makePromise(of: Void.self)
            promise.futureResult.whenComplete { _ in connection.written() }
            connection.channel.write(WebSocketFrame(fin: true, opcode: .text, data: message), promise: promise)
            flush[ObjectIdentifier(connection)] = connection.channel
        }
        for channel in flush.values { channel.flush() }
    }
}

/// One write queue per event loop.
final class EventLoopWriteQueues: Sendable {
    let queues = Mutex<[ObjectIdentifier: EventLoopWriteQueue]>([:])

    func queue(for loop: any EventLoop) -> EventLoopWriteQueue {
        queues.withLock { queues in
            if let queue = queues[ObjectIdentifier(loop)] { return queue }
            let queue = EventLoopWriteQueue(loop: loop)
            queues[ObjectIdentifier(loop)] = queue
            return queue
        }
    }
}
