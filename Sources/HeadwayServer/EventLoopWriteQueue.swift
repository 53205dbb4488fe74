import NIOCore
import Synchronization

/// The outgoing WebSocket frames for the connections of one event loop, coalesced: frames queued
/// from any thread are written by one task on the loop, with one flush per connection, so a
/// block fanned out to 10,000 clients costs a hop per event loop rather than one per client.
/// After its flush, a connection that still has more than `send_buffer_bytes` the kernel would
/// not take (the channel is not writable) is ended as too slow.
final class EventLoopWriteQueue: Sendable {
    struct Pending {
        var frames: [(connection: WebSocketConnection, frame: ByteBuffer)] = []
        var scheduled = false
    }

    let loop: any EventLoop
    let pending = Mutex(Pending())

    init(loop: any EventLoop) {
        self.loop = loop
    }

    /// Queues `frame` for `connection` (whose channel is on this loop).
    func enqueue(_ frame: ByteBuffer, for connection: WebSocketConnection) {
        let schedule = pending.withLock { pending in
            pending.frames.append((connection, frame))
            defer { pending.scheduled = true }
            return !pending.scheduled
        }
        if schedule { loop.execute { self.drain() } }
    }

    /// On the loop: writes everything queued, then flushes each connection once.
    func drain() {
        let frames = pending.withLock { pending in
            defer {
                pending.frames.removeAll(keepingCapacity: true)
                pending.scheduled = false
            }
            return pending.frames
        }
        var written: [WebSocketConnection] = []
        for (connection, frame) in frames where !connection.hasEnded {
            if connection.writer.value.write(frame) { written.append(connection) }
        }
        for connection in written {
            connection.writer.value.flush()
            if !connection.channel.isWritable { connection.end(.overflow) }
        }
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
