import CEpoll
import Foundation
import Glibc
import HeadwayCore
import Synchronization

/// The benchmark's WebSocket clients: plain blocking sockets for the handshake and the
/// `eth_subscribe`, then one thread reading all of them with epoll. The clients share the
/// machine's two cores with Headway, so they are as cheap as a client can be (one `read` per
/// message, no task, no channel pipeline): what the figures show is Headway's cost, as far as
/// this machine allows. (Built on SwiftNIO's channel handlers, the clients cost about 3 times
/// as much CPU per message; see bench/README.md.)
final class Subscribers: Sendable {
    let epoll = cepoll_create()
    let subscribed = Atomic<Int>(0)
    let failed = Atomic<Int>(0)
    /// Headers received by all clients together.
    let received = Atomic<Int>(0)
    /// The size of a header notification (a frame's payload), as last seen.
    let notificationBytes = Atomic<Int>(0)
    /// When each header arrived, in batches from the reader thread.
    let arrivals = Mutex<[(number: UInt64, at: ContinuousClock.Instant)]>([])

    /// Connects, upgrades and subscribes one client to `newHeads`, waiting for the answer.
    func connect(host: String, port: Int, path: String) {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { return fail(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, host, &address.sin_addr)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return fail(socket) }
        let request =
            "GET \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        guard send(socket, Array(request.utf8)), let response = receive(socket, until: { Self.headerEnd(in: $0) != nil }),
            response.starts(with: Array("HTTP/1.1 101".utf8))
        else { return fail(socket) }
        // A masked text frame (the zero mask leaves the payload as it is).
        let subscribe = Array(#"{"jsonrpc":"2.0","id":1,"method":"eth_subscribe","params":["newHeads"]}"#.utf8)
        guard send(socket, [0x81, 0x80 | UInt8(subscribe.count), 0, 0, 0, 0] + subscribe),
            receive(
                socket,
                until: { bytes in
                    bytes[(Self.headerEnd(in: bytes) ?? 0)...].withUnsafeBufferPointer { Self.frames(in: $0).complete > 0 }
                }) != nil
        else { return fail(socket) }
        _ = fcntl(socket, F_SETFL, fcntl(socket, F_GETFL) | O_NONBLOCK)
        guard cepoll_add(epoll, socket) == 0 else { return fail(socket) }
        subscribed.add(1, ordering: .relaxed)
    }

    func fail(_ socket: Int32) {
        if socket >= 0 { close(socket) }
        failed.add(1, ordering: .relaxed)
    }

    func send(_ socket: Int32, _ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) == $0.count }
    }

    /// Reads until `done` holds for everything read so far; nil when the socket ends first.
    func receive(_ socket: Int32, until done: ([UInt8]) -> Bool) -> [UInt8]? {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while !done(bytes) {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(socket, $0.baseAddress, $0.count) }
            guard count > 0 else { return nil }
            bytes += chunk[..<count]
        }
        return bytes
    }

    static func headerEnd(in bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for index in 0...(bytes.count - 4) where bytes[index] == 13 && bytes[index + 1] == 10 && bytes[index + 2] == 13 && bytes[index + 3] == 10 {
            return index + 4
        }
        return nil
    }

    /// The whole frames at the start of `bytes` (opcode and payload range), and how many bytes they take.
    static func frames(in bytes: UnsafeBufferPointer<UInt8>) -> (frames: [(opcode: UInt8, payload: Range<Int>)], complete: Int) {
        var frames: [(opcode: UInt8, payload: Range<Int>)] = []
        var index = bytes.startIndex
        while bytes.endIndex - index >= 2 {
            var length = Int(bytes[index + 1] & 0x7F)
            var start = index + 2
            if length == 126 {
                guard bytes.endIndex - index >= 4 else { break }
                length = Int(bytes[index + 2]) << 8 | Int(bytes[index + 3])
                start = index + 4
            } else if length == 127 {
                guard bytes.endIndex - index >= 10 else { break }
                length = (0..<8).reduce(0) { $0 << 8 | Int(bytes[index + 2 + $1]) }
                start = index + 10
            }
            guard bytes.endIndex - start >= length else { break }
            frames.append((bytes[index] & 0x0F, start..<(start + length)))
            index = start + length
        }
        return (frames, index - bytes.startIndex)
    }

    /// Reads every client on this thread, for ever: each header's arrival is recorded, pings
    /// are answered.
    func read() {
        var ready = [Int32](repeating: 0, count: 512)
        let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: 65536)
        var partial: [Int32: [UInt8]] = [:]
        var batch: [(number: UInt64, at: ContinuousClock.Instant)] = []
        while true {
            let readyCount = ready.withUnsafeMutableBufferPointer { cepoll_wait(epoll, $0.baseAddress, Int32($0.count), 100) }
            guard readyCount > 0 else { continue }
            for socket in ready[..<Int(readyCount)] {
                let count = Glibc.read(socket, buffer.baseAddress, buffer.count)
                guard count > 0 else {
                    if count == 0 || errno != EAGAIN { close(socket) }
                    continue
                }
                let now = ContinuousClock.now
                if let earlier = partial.removeValue(forKey: socket) {
                    let bytes = earlier + buffer[..<count]
                    let complete = bytes.withUnsafeBufferPointer { handle($0, from: socket, at: now, into: &batch) }
                    if complete < bytes.count { partial[socket] = Array(bytes[complete...]) }
                } else {
                    let complete = handle(UnsafeBufferPointer(rebasing: buffer[..<count]), from: socket, at: now, into: &batch)
                    if complete < count { partial[socket] = Array(buffer[complete..<count]) }
                }
            }
            if !batch.isEmpty {
                let headers = batch.count
                arrivals.withLock { $0 += batch }
                batch.removeAll(keepingCapacity: true)
                received.add(headers, ordering: .relaxed)
            }
        }
    }

    /// Handles the whole frames at the start of `bytes`; how many bytes they took.
    func handle(
        _ bytes: UnsafeBufferPointer<UInt8>, from socket: Int32, at now: ContinuousClock.Instant,
        into batch: inout [(number: UInt64, at: ContinuousClock.Instant)]
    ) -> Int {
        let (frames, complete) = Self.frames(in: bytes)
        for frame in frames {
            switch frame.opcode {
            case 1, 2:
                if let number = Self.blockNumber(in: UnsafeBufferPointer(rebasing: bytes[frame.payload])) {
                    batch.append((number, now))
                    notificationBytes.store(frame.payload.count, ordering: .relaxed)
                }
            case 9:
                let payload = Array(bytes[frame.payload])
                _ = send(socket, [0x8A, 0x80 | UInt8(payload.count), 0, 0, 0, 0] + payload)
            case 8:
                close(socket)
            default:
                break
            }
        }
        return complete
    }

    static let numberKey = Array(#""number":"0x"#.utf8)

    /// The hex number after `"number":"0x` in a notification.
    static func blockNumber(in bytes: UnsafeBufferPointer<UInt8>) -> UInt64? {
        let key = numberKey
        var index = bytes.startIndex
        while index + key.count < bytes.endIndex {
            if bytes[index] == key[0], bytes[(index + 1)..<(index + key.count)].elementsEqual(key[1...]) {
                var value: UInt64 = 0
                var position = index + key.count
                while position < bytes.endIndex, let digit = Hex.nibble(bytes[position]) {
                    value = value << 4 | UInt64(digit)
                    position += 1
                }
                return value
            }
            index += 1
        }
        return nil
    }
}
